"""Redis clients from `GATEWAY_REDIS_URL`: one server, Sentinel or Cluster.

- `redis://host:6379/0`, `rediss://...`, `unix:///path/redis.sock`: one server;
- `redis+sentinel://host1:26379,host2:26379/mymaster`: the master Sentinel names;
- `redis+cluster://host:7000`: a Redis Cluster (any node; the others are discovered).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import ConnectionError as RedisConnectionError

from state.packing import packed
from state.store import Client

# Fail fast: a webhook must answer the provider within seconds even when Redis is down.
SOCKET_TIMEOUT = 2.0


def connect(url: str, *, socket_timeout: float | None = SOCKET_TIMEOUT) -> Client:
    """A client for `url` (see the module docstring for the forms understood).

    `socket_timeout=None` is for callers that bound each call themselves (the session
    store's per-answer calls): see `SessionStore`."""
    parts = urlsplit(url)
    if parts.scheme == "redis+cluster":
        cluster: RedisCluster = RedisCluster.from_url(
            url.replace("redis+cluster://", "redis://", 1),
            socket_timeout=socket_timeout,
            socket_connect_timeout=SOCKET_TIMEOUT,
        )
        return cluster
    if parts.scheme == "redis+sentinel":
        hosts = []
        for host in parts.netloc.rsplit("@", 1)[-1].split(","):
            name, _, port = host.partition(":")
            hosts.append((name, int(port or 26379)))
        service = parts.path.strip("/") or "mymaster"
        options = parse_qs(parts.query)
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            hosts,
            socket_timeout=socket_timeout,
            socket_connect_timeout=SOCKET_TIMEOUT,
            password=unquote(parts.password) if parts.password else None,
            db=int(options.get("db", ["0"])[0]),
        )
        master: Redis = sentinel.master_for(service)
        return master
    pool = UncontendedPool.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=SOCKET_TIMEOUT,
        # Once more on a new connection when the one taken was closed by the server (a
        # Redis restart): the pool does not check a connection it handed out a moment
        # ago (see UncontendedPool), and a restart must not cost citizens an answer. A
        # command whose reply was lost after Redis ran it runs twice: the session store's
        # scripts answer the repeat as the first; elsewhere it costs an extra count or event.
        retry_on_error=[RedisConnectionError],
    )
    pool.connection_class = packed(pool.connection_class)  # the URL chose TCP, TLS or Unix
    return Redis.from_pool(pool)


async def streamline(pool: ConnectionPool) -> None:
    """Give a pool another library built (arq's) what `connect`'s pools have: no lock
    around health checks, no check of a connection used a moment ago (`UncontendedPool`)
    and commands packed by hiredis (`state.packing`). The connections it made already
    (arq pings on creation) are closed: they are of the old class. Not the retry, which
    is a setting of its connections. A Sentinel's pool (another subclass) is left as it is."""
    if type(pool) is ConnectionPool:
        await pool.disconnect()
        pool.__class__ = UncontendedPool
        pool.connection_class = packed(pool.connection_class)
        pool.reset()  # type: ignore[no-untyped-call]  # now UncontendedPool.reset


class UncontendedPool(ConnectionPool):
    """redis-py 5's pool, without holding its lock while a connection is checked, and
    without checking a connection that was in use a moment ago.

    - redis-py 5 (which arq pins) awaits the health check of a pooled connection inside
      the pool's lock, so every concurrent command queues behind one another's socket
      poll: under load that lock was the costliest part of a USSD hop. Taking a
      connection is synchronous on one event loop; the check then runs outside any lock,
      as redis-py 6 does it.
    - The check is a read with a zero timeout: an extra turn of the event loop and a
      cancelled read for every command, 2% of a hop's instructions. It finds connections
      the server closed while they sat idle; a connection given back less than
      `FRESH_SECONDS` ago goes out unchecked: a command that then finds it closed (a
      Redis restart) is sent again once on a new connection (`connect`'s retry; the
      session store's scripts answer a repeated call as the first; the outbox's arq
      pool has the same retry: `gateway.delivery.outbox`).
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
