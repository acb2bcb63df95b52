"""The seam over redis-py's internals: the gateway's speed-ups to redis-py 5, in one place.

Domain code calls `streamlined_pool`, `streamline` and `run_script`, never what they
lean on. Each leans on something redis-py does not promise, checked against the installed
redis-py by tests/state/test_redis_compat.py (and tests/state/test_packing.py: the packed
bytes are redis-py's); `redis>=5.2,<6` and `hiredis>=3,<4` in pyproject.toml keep an
unchecked release out.

- `UncontendedPool` overrides the asyncio `ConnectionPool`'s `get_connection` and
  `release`, calls its `get_available_connection`, `ensure_connection` and `reset`, and
  relies on `Redis.execute_command` and pipelines taking every connection through
  `get_connection()` and giving it back through `release()`. redis-py 5 awaits a pooled
  connection's health check inside the pool's lock: under load that lock was the costliest
  part of a USSD hop, and the check itself (a read with a zero timeout) 2% of its
  instructions (bench/hop_cpu.py --callgrind).
- `streamline` changes the class of a pool another library built (arq's) to
  `UncontendedPool`: it relies on a pool made as redis-py's own having, after `reset()`,
  every attribute ours has.
- `packed` gives the asyncio connections the `pack_command` of redis-py's synchronous ones
  (`redis.connection.HiredisRespSerializer`, hiredis's C packer); `send_command` and
  `pack_commands` pack through `pack_command`. Packing in Python cost 4% of a hop.
- `run_script` sends `EVALSHA` through `execute_command` as `AsyncScript.__call__` does,
  without its per-call pipeline check (it costs more than the call's arguments), and
  falls back to the script on `NoScriptError`.

When the contract test fails after an upgrade: read the failing part's new code in
redis-py. If the release does the same itself (redis-py 6 checks connections outside the
lock; a release may pack in C), drop our part and compare `python -m bench.hop_cpu
--callgrind` before and after; otherwise adapt the part to the new internals. Either way
the test says what the seam needs, and the bound in pyproject.toml moves only once it
passes.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.commands.core import AsyncScript
from redis.connection import HiredisRespSerializer
from redis.exceptions import NoScriptError
from redis.typing import EncodableT


class UncontendedPool(ConnectionPool):
    """redis-py 5's pool, without holding its lock while a connection is checked, and
    without checking a connection that was in use a moment ago.

    - redis-py 5 (which arq pins) awaits the health check of a pooled connection inside
      the pool's lock, so every concurrent command queues behind one another's socket
      poll. Taking a connection is synchronous on one event loop; the check then runs
      outside any lock, as redis-py 6 does it.
    - The check is a read with a zero timeout: an extra turn of the event loop and a
      cancelled read for every command. It finds connections the server closed while they
      sat idle; a connection given back less than `FRESH_SECONDS` ago goes out unchecked:
      a command that then finds it closed (a Redis restart) is sent again once on a new
      connection (the retry `state.connect` and the outbox set; the session store's
      scripts answer a repeated call as the first).
    """

    FRESH_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._released_at: dict[AbstractConnection, float] = {}

    def reset(self) -> None:  # also what `streamline` calls for a pool made as another
        super().reset()  # type: ignore[no-untyped-call]
        self._released_at = {}

    async def get_connection(
        self, command_name: object = None, *keys: object, **options: object
    ) -> AbstractConnection:
        connection: AbstractConnection = self.get_available_connection()  # type: ignore[no-untyped-call]
        released = self._released_at.pop(connection, None)
        try:
            if released is not None and time.monotonic() - released < self.FRESH_SECONDS:
                await connection.connect()  # type: ignore[no-untyped-call]  # at once if connected
            else:
                await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        self._released_at[connection] = time.monotonic()
        await super().release(connection)


def streamlined_pool(url: str, **options: Any) -> ConnectionPool:
    """A pool for `url` (TCP, TLS or a Unix socket, as redis-py reads it) whose commands
    go unqueued (`UncontendedPool`) and are packed by hiredis (`packed`); `options` are
    `ConnectionPool.from_url`'s."""
    pool = UncontendedPool.from_url(url, **options)
    pool.connection_class = packed(pool.connection_class)  # the URL chose the class
    return pool


async def streamline(pool: ConnectionPool) -> None:
    """Give a pool another library built (arq's) what `streamlined_pool`'s have. The
    connections it made already are closed: they are of the old class. Not the retry,
    which is a setting of its connections. A Sentinel's pool (another subclass) is left
    as it is."""
    if type(pool) is ConnectionPool:
        await pool.disconnect()
        pool.__class__ = UncontendedPool
        pool.connection_class = packed(pool.connection_class)
        pool.reset()  # type: ignore[no-untyped-call]  # now UncontendedPool.reset


_HIREDIS = HiredisRespSerializer()  # stateless: one for every connection


class HiredisPacking:
    """`pack_command` of an asyncio connection, in C: redis-py's own serializer of its
    synchronous connections (multi-word command names split, DataError for what hiredis
    refuses). redis-py 5's asyncio connections encode and join every argument in Python;
    the session store's begin and commit carry fifteen arguments each."""

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        packed: list[bytes] = _HIREDIS.pack(*args)  # type: ignore[arg-type]
        return packed


class PackedConnection(HiredisPacking, Connection):
    pass


class PackedSSLConnection(HiredisPacking, SSLConnection):
    pass


class PackedUnixDomainSocketConnection(HiredisPacking, UnixDomainSocketConnection):
    pass


PACKED: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: PackedConnection,
    SSLConnection: PackedSSLConnection,
    UnixDomainSocketConnection: PackedUnixDomainSocketConnection,
}


def packed(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """The hiredis-packing variant of a redis-py connection class (itself if none)."""
    return PACKED.get(connection_class, connection_class)


async def run_script(
    client: Redis | RedisCluster, script: AsyncScript, keys: list[str], args: list[Any]
) -> Any:
    """`script(keys=keys, args=args)` through `client`, for less: EVALSHA straight through
    `execute_command`; a server that does not know the script yet (restarted, failed
    over) gets it loaded by `script` itself, through the client it was registered with."""
    try:
        return await client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        return await script(keys=keys, args=args)
