"""The contract of `state.redis_compat` with the installed redis-py.

Each part of the seam leans on something redis-py does not promise; these tests fail,
naming it, when an upgrade moves it (the seam's docstring says what to do then). The
packed bytes themselves are compared with redis-py's in tests/state/test_packing.py.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.connection import HiredisRespSerializer
from redis.exceptions import NoScriptError
from redis.utils import HIREDIS_AVAILABLE

from state.redis_compat import (
    PACKED,
    HiredisPacking,
    PackedConnection,
    UncontendedPool,
    run_script,
    streamline,
    streamlined_pool,
)
from tests.redis_databases import RedisDatabase


def parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.fixture
async def client(redis_database: RedisDatabase) -> AsyncIterator[Redis]:
    """A client on the seam's pool, in a database of this test's own."""
    connected = Redis.from_pool(streamlined_pool(redis_database.url))
    try:
        yield connected
    finally:
        await connected.aclose()


def pool_of(client: Redis) -> UncontendedPool:
    pool = client.connection_pool
    assert isinstance(pool, UncontendedPool)
    return pool


class Untakeable:
    """Stands for a pool's lock that no command may take."""

    async def __aenter__(self) -> None:
        raise AssertionError("a command took the pool's lock")

    async def __aexit__(self, *exc: object) -> None:
        return None


# The pool


def test_the_pool_methods_the_uncontended_pool_calls_and_overrides_are_there() -> None:
    assert parameters(ConnectionPool.get_available_connection) == ["self"]
    assert not inspect.iscoroutinefunction(ConnectionPool.get_available_connection)
    assert parameters(ConnectionPool.ensure_connection) == ["self", "connection"]
    assert inspect.iscoroutinefunction(ConnectionPool.ensure_connection)
    assert parameters(ConnectionPool.release) == ["self", "connection"]
    assert inspect.iscoroutinefunction(ConnectionPool.release)
    assert parameters(ConnectionPool.reset) == ["self"]
    assert parameters(AbstractConnection.connect) == ["self"]
    assert inspect.iscoroutinefunction(AbstractConnection.connect)
    # Whatever redis-py passes to get_connection, ours takes.
    assert parameters(UncontendedPool.get_connection) == parameters(ConnectionPool.get_connection)


def test_a_pool_streamlined_has_every_attribute_of_one_made_uncontended() -> None:
    """`streamline` changes the class of a pool made as redis-py's own: after `reset()`
    it must hold all the state an `UncontendedPool` holds."""
    made = UncontendedPool()
    pool = ConnectionPool()
    asyncio.run(streamline(pool))
    assert type(pool) is UncontendedPool
    assert pool.connection_class is PackedConnection
    assert set(vars(pool)) == set(vars(made))
    assert pool._released_at == {}


def test_only_redis_pys_own_pool_is_streamlined() -> None:
    """A subclass (a Sentinel's pool) has state of its own: it is left as it is."""

    class OtherPool(ConnectionPool):
        pass

    pool = OtherPool()
    asyncio.run(streamline(pool))
    assert type(pool) is OtherPool
    assert pool.connection_class is Connection


async def test_commands_take_and_give_back_connections_through_the_pools_hooks(
    client: Redis,
) -> None:
    """`execute_command` and pipelines take a connection through `get_connection()` and
    give it back through `release()`, and never take the pool's lock; a connection
    given back a moment ago goes out unchecked, one idle longer is checked."""
    pool = pool_of(client)
    pool._lock = Untakeable()  # type: ignore[assignment]
    checked: list[AbstractConnection] = []
    ensure = pool.ensure_connection

    async def counted(connection: AbstractConnection) -> None:
        checked.append(connection)
        await ensure(connection)

    pool.ensure_connection = counted  # type: ignore[method-assign]
    assert await client.ping()
    assert len(checked) == 1  # a new connection: checked
    (connection,) = pool._released_at  # given back through release()
    assert await client.ping()
    async with client.pipeline(transaction=True) as pipe:
        pipe.set("gw:test:compat", "1")
        pipe.get("gw:test:compat")
        assert await pipe.execute() == [True, b"1"]
    assert len(checked) == 1  # used a moment ago: unchecked
    assert list(pool._released_at) == [connection]
    pool.FRESH_SECONDS = 0.0
    assert await client.ping()
    assert checked == [connection, connection]  # idle long enough: checked


async def test_concurrent_commands_get_connections_of_their_own(client: Redis) -> None:
    pool = pool_of(client)
    pool._lock = Untakeable()  # type: ignore[assignment]
    names = [f"gw:test:compat:{n}" for n in range(8)]
    await asyncio.gather(*(client.set(name, name) for name in names))
    assert len(pool._available_connections) > 1
    assert not pool._in_use_connections
    assert await client.mget(names) == [name.encode() for name in names]


# Packing


@pytest.mark.parametrize(
    ("url", "connection_class"),
    [
        ("redis://127.0.0.1:6379/0", Connection),
        ("rediss://127.0.0.1:6380/0", SSLConnection),
        ("unix:///run/redis.sock?db=0", UnixDomainSocketConnection),
    ],
)
def test_every_single_server_url_gets_a_class_that_packs_in_c(
    url: str, connection_class: type[AbstractConnection]
) -> None:
    """redis-py picks one of the classes `packed` knows for each URL form: a new class
    would pack in Python again, silently."""
    assert ConnectionPool.from_url(url).connection_class is connection_class
    assert streamlined_pool(url).connection_class is PACKED[connection_class]
    assert issubclass(PACKED[connection_class], HiredisPacking)


def test_redis_pys_serializer_packs_with_hiredis() -> None:
    assert HIREDIS_AVAILABLE
    assert parameters(AbstractConnection.pack_command) == ["self", "args"]
    serializer = HiredisRespSerializer()
    assert serializer.pack("SCRIPT LOAD", "x") == [  # type: ignore[arg-type]  # typed wrong
        b"*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$1\r\nx\r\n"
    ]


async def test_commands_and_pipelines_are_packed_through_pack_command(
    client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed_commands: list[tuple[object, ...]] = []
    pack = HiredisPacking.pack_command

    def counted(self: HiredisPacking, *args: Any) -> list[bytes]:
        packed_commands.append(args)
        return pack(self, *args)

    assert await client.ping()  # connected (SELECT, CLIENT SETINFO) before counting
    monkeypatch.setattr(HiredisPacking, "pack_command", counted)
    assert await client.set("gw:test:compat", "ཚོང་")
    async with client.pipeline(transaction=True) as pipe:
        pipe.get("gw:test:compat")
        pipe.strlen("gw:test:compat")
        assert await pipe.execute() == ["ཚོང་".encode(), len("ཚོང་".encode())]
    assert [args[0] for args in packed_commands] == ["SET", "MULTI", "GET", "STRLEN", "EXEC"]


# Scripts


async def test_run_script_sends_what_the_script_object_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hand-sent EVALSHA is the command `AsyncScript.__call__` sends (no server)."""
    client = Redis()
    script = client.register_script("return {KEYS[1], ARGV[1]}")
    sent: list[tuple[tuple[object, ...], dict[str, object]]] = []

    async def execute_command(*args: object, **options: object) -> str:
        sent.append((args, options))
        return "answer"

    monkeypatch.setattr(client, "execute_command", execute_command)
    assert await script(keys=["gw:k"], args=[15000, 0.5, "x"]) == "answer"
    assert await run_script(client, script, ["gw:k"], [15000, 0.5, "x"]) == "answer"
    assert sent[0] == sent[1]
    assert sent[1] == (("EVALSHA", script.sha, 1, "gw:k", 15000, 0.5, "x"), {})
    await client.aclose()


async def test_a_server_without_the_script_gets_it_loaded(
    client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted or failed-over server refuses an unknown sha with NoScriptError; the
    seam loads the script and answers, and the next call goes straight through."""
    with pytest.raises(NoScriptError):
        await client.execute_command("EVALSHA", "0" * 40, 0)  # type: ignore[no-untyped-call]
    script = client.register_script("return ARGV[1] .. KEYS[1]")
    await client.script_flush()
    assert await run_script(client, script, ["k"], ["gw:"]) == b"gw:k"
    sent: list[object] = []
    execute = client.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        sent.append(args[0])
        return await execute(*args, **options)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(client, "execute_command", counted)
    assert await run_script(client, script, ["k"], ["again:"]) == b"again:k"
    assert sent == ["EVALSHA"]
