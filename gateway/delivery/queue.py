"""The outbound job queue: where it lives, and whether this host's worker serves it.

Apart from `gateway.delivery.worker` so that a liveness probe (`gateway worker --check`, every
30 s in the worker's container) imports neither the worker nor the PDF stack.
"""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, unquote, urlsplit

from arq.connections import RedisSettings
from redis.exceptions import RedisError

from gateway.settings import Settings
from state.connect import connect
from state.embedded import EmbeddedRedis

# A worker records that it is alive this often (arq's health check, kept 1 s longer), under
# a key naming its host: one worker a pod, so `gateway worker --check` (the liveness probe)
# asks after this pod's worker, not any of them. (Workers run in-process by several
# `gateway serve` workers of one host share the key: the probe is for `gateway worker`.)
HEALTH_SECONDS = 10


class QueueConfigError(ValueError):
    """The queue URL names something arq cannot use."""


def health_key(queue_name: str) -> str:
    return f"{queue_name}:health-check:{socket.gethostname()}"


async def alive(queue_url: str, queue_name: str) -> bool:
    """Whether this host's worker recorded that it is alive in the last HEALTH_SECONDS
    (+1): a worker whose event loop is stuck stops recording, and the probe restarts it."""
    client = connect(queue_url)
    try:
        return bool(await client.exists(health_key(queue_name)))
    except (RedisError, OSError):
        return False  # Redis out of reach: the worker cannot work either
    finally:
        await client.aclose()


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for a queue URL.

    `redis://`, `rediss://`, `unix:///path.sock` and `redis+sentinel://h1:26379,h2/master`
    are understood; a Redis Cluster is not (arq needs one server for its queue).
    """
    parts = urlsplit(url)
    password = unquote(parts.password) if parts.password else None
    username = unquote(parts.username) if parts.username else None
    query = parse_qs(parts.query)
    if parts.scheme == "redis+cluster":
        raise QueueConfigError(
            "the job queue cannot run on a Redis Cluster (arq needs one server): set "
            "GATEWAY_QUEUE_URL to a single Redis (redis://host:6379/0) or a Sentinel "
            "(redis+sentinel://host:26379/mymaster)"
        )
    if parts.scheme == "redis+sentinel":
        hosts = []
        for host in parts.netloc.rsplit("@", 1)[-1].split(","):
            name, _, port = host.partition(":")
            hosts.append((name, int(port or 26379)))
        return RedisSettings(
            host=hosts,
            sentinel=True,
            sentinel_master=parts.path.strip("/") or "mymaster",
            password=password,
            database=int(query.get("db", ["0"])[0]),
        )
    if parts.scheme == "unix":
        return RedisSettings(
            unix_socket_path=parts.path,
            password=password,
            database=int(query.get("db", ["0"])[0]),
        )
    if parts.scheme in ("redis", "rediss"):
        path = parts.path.strip("/")
        return RedisSettings(
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            ssl=parts.scheme == "rediss",
            username=username,
            password=password,
            database=int(query.get("db", [path or "0"])[0]),
        )
    raise QueueConfigError(
        f"unsupported queue URL scheme {parts.scheme!r}: use redis://, rediss://, unix:// "
        "or redis+sentinel://"
    )


def queue_url_for(settings: Settings) -> str:
    """The queue `gateway worker` serves: GATEWAY_QUEUE_URL, else GATEWAY_REDIS_URL, else
    the embedded Redis of a `gateway serve` running from the same directory."""
    url = settings.queue_url or events_url_for(settings)
    if url is None:
        raise QueueConfigError(
            "no queue: set GATEWAY_QUEUE_URL or GATEWAY_REDIS_URL (under embedded "
            "defaults `gateway serve` runs the worker itself)"
        )
    redis_settings(url)  # refuses what arq cannot use
    return url


def events_url_for(settings: Settings) -> str | None:
    """The session store's Redis, whose event stream `gateway worker` archives: the
    configured one, else a `gateway serve`'s embedded one in the same directory."""
    if settings.redis_url:
        return settings.redis_url
    embedded = EmbeddedRedis(settings.var_dir / "redis")
    return embedded.url if embedded.socket.exists() else None
