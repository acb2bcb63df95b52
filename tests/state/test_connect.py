"""`GATEWAY_REDIS_URL` forms: one server (TCP, TLS, Unix socket), Sentinel, Cluster."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.sentinel import SentinelConnectionPool

from state.connect import SOCKET_TIMEOUT, UncontendedPool, connect
from state.embedded import EmbeddedRedis
from state.packing import PACKED
from tests.redis_databases import RedisDatabase
from tests.state.conftest import Cluster


def pool_options(client: Redis) -> dict[str, Any]:
    options: dict[str, Any] = client.connection_pool.connection_kwargs
    return options


async def test_a_redis_url_is_one_server_with_short_timeouts() -> None:
    client = connect("redis://cache.internal:6380/3")
    try:
        assert isinstance(client, Redis)
        assert client.connection_pool.connection_class is PACKED[Connection]
        options = pool_options(client)
        assert (options["host"], options["port"], options["db"]) == ("cache.internal", 6380, 3)
        assert options["socket_timeout"] == SOCKET_TIMEOUT
        assert options["socket_connect_timeout"] == SOCKET_TIMEOUT
        assert SOCKET_TIMEOUT <= 5  # a webhook must answer within seconds
    finally:
        await client.aclose()


async def test_rediss_is_tls_and_unix_is_a_socket_path() -> None:
    secure = connect("rediss://:secret@cache.internal:6380/0")
    local = connect("unix:///run/redis/redis.sock")
    try:
        assert isinstance(secure, Redis)
        assert secure.connection_pool.connection_class is PACKED[SSLConnection]
        assert pool_options(secure)["password"] == "secret"
        assert isinstance(local, Redis)
        assert local.connection_pool.connection_class is PACKED[UnixDomainSocketConnection]
        assert pool_options(local)["path"] == "/run/redis/redis.sock"
        assert pool_options(local)["socket_timeout"] == SOCKET_TIMEOUT
    finally:
        await secure.aclose()
        await local.aclose()


async def test_a_sentinel_url_names_the_sentinels_and_the_master() -> None:
    client = connect("redis+sentinel://:secret@s1.internal:26380,s2.internal/gateway?db=2")
    try:
        assert isinstance(client, Redis)
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        assert pool.service_name == "gateway"
        sentinels = [s.connection_pool.connection_kwargs for s in pool.sentinel_manager.sentinels]
        assert [(s["host"], s["port"]) for s in sentinels] == [
            ("s1.internal", 26380),
            ("s2.internal", 26379),
        ]
        assert all(s["socket_timeout"] == SOCKET_TIMEOUT for s in sentinels)
        options = pool_options(client)
        assert (options["password"], options["db"]) == ("secret", 2)
        assert options["socket_timeout"] == SOCKET_TIMEOUT
    finally:
        await client.aclose()


async def test_a_sentinel_url_defaults_to_mymaster_and_db_0() -> None:
    client = connect("redis+sentinel://s1.internal")
    try:
        assert isinstance(client, Redis)
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        assert pool.service_name == "mymaster"
        assert pool_options(client)["db"] == 0
        assert pool_options(client)["password"] is None
    finally:
        await client.aclose()


async def test_a_sentinel_password_is_percent_decoded_like_in_any_redis_url() -> None:
    client = connect("redis+sentinel://:p%40ss%3Aword@s1.internal:26379/mymaster")
    single = connect("redis://:p%40ss%3Aword@cache.internal:6379/0")
    try:
        assert isinstance(single, Redis)
        assert pool_options(single)["password"] == "p@ss:word"
        assert isinstance(client, Redis)
        assert pool_options(client)["password"] == "p@ss:word"
    finally:
        await client.aclose()
        await single.aclose()


async def test_a_cluster_url_starts_from_the_node_given() -> None:
    client = connect("redis+cluster://node1.internal:7000")
    try:
        assert isinstance(client, RedisCluster)
        nodes = client.nodes_manager.startup_nodes
        assert [(n.host, n.port) for n in nodes.values()] == [("node1.internal", 7000)]
        node = next(iter(nodes.values()))
        assert node.connection_kwargs["socket_timeout"] == SOCKET_TIMEOUT
        assert node.connection_kwargs["socket_connect_timeout"] == SOCKET_TIMEOUT
    finally:
        await client.aclose()


async def test_each_form_reaches_a_live_server(
    redis_database: RedisDatabase, redis_cluster: Cluster, embedded_redis: EmbeddedRedis
) -> None:
    for url in (redis_database.url, embedded_redis.url, redis_cluster.url):
        client = connect(url)
        try:
            assert await client.ping()
        finally:
            await client.aclose()


async def killed(client: Redis, database: RedisDatabase) -> None:
    """The server closes the client's pooled connection, as a Redis restart would."""
    connection_id = await client.client_id()
    admin = connect(database.url)
    try:
        assert await admin.client_kill_filter(_id=connection_id) == 1
    finally:
        await admin.aclose()


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    redis_database: RedisDatabase,
) -> None:
    client = connect(redis_database.url)
    assert isinstance(client, Redis)
    pool = client.connection_pool
    assert isinstance(pool, UncontendedPool)
    pool.FRESH_SECONDS = 0.05
    try:
        await killed(client, redis_database)
        await asyncio.sleep(0.1)  # idle longer than FRESH_SECONDS: checked, reconnected
        assert await client.ping()
    finally:
        await client.aclose()


async def test_a_connection_used_a_moment_ago_goes_out_unchecked_and_is_retried(
    redis_database: RedisDatabase,
) -> None:
    """The check costs an event loop turn per command, so a connection given back less
    than FRESH_SECONDS ago goes out unchecked; when the server closed it meanwhile, the
    command is sent once more on a new connection and the caller sees nothing."""
    client = connect(redis_database.url)
    assert isinstance(client, Redis)
    try:
        await client.set("gw:test:retried", "before")
        first = await client.client_id()
        await killed(client, redis_database)
        assert await client.get("gw:test:retried") == b"before"
        assert await client.client_id() != first  # on a new connection
    finally:
        await client.delete("gw:test:retried")
        await client.aclose()
