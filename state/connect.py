"""Redis clients from `GATEWAY_REDIS_URL`: one server, Sentinel or Cluster.

- `redis://host:6379/0`, `rediss://...`, `unix:///path/redis.sock`: one server;
- `redis+sentinel://host1:26379,host2:26379/mymaster`: the master Sentinel names;
- `redis+cluster://host:7000`: a Redis Cluster (any node; the others are discovered).
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import ConnectionError as RedisConnectionError

# UncontendedPool: re-exported until tests/state/test_connect.py and
# tests/gateway/delivery/test_outbox.py import it from its seam, `state.redis_compat`.
from state.redis_compat import UncontendedPool as UncontendedPool
from state.redis_compat import streamlined_pool
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
    pool = streamlined_pool(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=SOCKET_TIMEOUT,
        # Once more on a new connection when the one taken was closed by the server (a
        # Redis restart): the pool does not check a connection it handed out a moment
        # ago (see `state.redis_compat.UncontendedPool`), and a restart must not cost
        # citizens an answer. A command whose reply was lost after Redis ran it runs
        # twice: the session store's scripts answer the repeat as the first; elsewhere
        # it costs an extra count or event.
        retry_on_error=[RedisConnectionError],
    )
    return Redis.from_pool(pool)
