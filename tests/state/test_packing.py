"""hiredis packs the commands of the gateway's Redis connections: the same bytes as
redis-py's own packer, the same error for what Redis cannot take."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection
from redis.asyncio.sentinel import SentinelManagedConnection
from redis.exceptions import DataError
from redis.typing import EncodableT

from state.connect import connect
from state.packing import PACKED, PackedConnection, packed
from tests.redis_databases import RedisDatabase

COMMANDS: list[tuple[EncodableT, ...]] = [
    ("PING",),
    ("SET", "gw:s:+97517123456", '{"step": "name", "answers": {"n": "Druk Bakery"}}'),
    ("EVALSHA", b"0123456789abcdef", 2, "k1", "k2", 15000, 1717171717.25, 0.1, -3),
    ("SCRIPT LOAD", "return 1"),  # a name of two words goes as two arguments
    (b"CLIENT SETNAME", b"gateway"),
    ("SET", "ཁ་བྱང་", "ཚོང་ལས་ཐོ་འགོད།"),  # Dzongkha: UTF-8 like every str
    ("SET", "big", "x" * 200_000),  # beyond redis-py's chunking size
    ("SET", "view", memoryview(b"bytes in a view")),
    ("XADD", "gw:events", "*", "event", ""),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_the_bytes_are_redis_pys(command: tuple[EncodableT, ...]) -> None:
    ours = PackedConnection().pack_command(*command)
    theirs = Connection().pack_command(*command)
    assert b"".join(ours) == b"".join(bytes(part) for part in theirs)


@pytest.mark.parametrize("value", [None, True, {"a": 1}, bytearray(b"x")], ids=repr)
def test_what_redis_py_refuses_is_refused_alike(value: object) -> None:
    with pytest.raises(DataError):
        Connection().pack_command("SET", "k", value)  # type: ignore[arg-type]
    with pytest.raises(DataError):
        PackedConnection().pack_command("SET", "k", value)  # type: ignore[arg-type]


def test_other_connection_classes_are_left_alone() -> None:
    """Sentinel and Cluster connections keep their own packing (tests/state/test_connect.py
    checks that every single-server URL gets a packing class)."""
    assert packed(SentinelManagedConnection) is SentinelManagedConnection
    assert packed(PackedConnection) is PackedConnection
    assert all(issubclass(ours, theirs) for theirs, ours in PACKED.items())


async def test_a_real_server_answers_packed_commands(redis_database: RedisDatabase) -> None:
    client = connect(redis_database.url)
    word = "ཚོང་ལས་".encode()
    try:
        await client.set("gw:test:packing", word.decode())
        async with client.pipeline(transaction=True) as pipe:
            pipe.append("gw:test:packing", "x" * 100_000)
            pipe.strlen("gw:test:packing")
            pipe.getrange("gw:test:packing", 0, len(word) - 1)
            _, length, head = await pipe.execute()
        assert (length, head) == (len(word) + 100_000, word)
        # An int and a float as arguments: Lua adds 2 + 0.5, Redis answers the integer 2.
        assert await client.execute_command("EVAL", "return ARGV[1] + ARGV[2]", 0, 2, 0.5) == 2
    finally:
        await client.delete("gw:test:packing")
        await client.aclose()
