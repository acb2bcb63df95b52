"""Redis Cluster specifics (the whole store suite also runs on the cluster: `[cluster]`).

The cluster is the test session's own: three `redis-server --cluster-enabled yes` nodes
on loopback ports, created with `redis-cli --cluster create` (see `conftest.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from dialogs.catalog import Catalog
from dialogs.media import Medium
from dialogs.messages import EffectResult, LookupRequest, LookupResult
from gateway.catalog.reload import DIGEST_KEY, GENERATION_KEY, announce, published
from gateway.catalog.versions import archive_versions, restore_version
from gateway.conversations.messages import Message
from gateway.conversations.service import Conversations
from state.connect import connect
from state.store import EVENTS_STREAM, EXPIRY_INDEX, SessionRecord, SessionStore
from tests.state import SHARED_HOST
from tests.state.conftest import Cluster


@pytest.fixture
async def cluster_store(redis_cluster: Cluster) -> AsyncIterator[SessionStore]:
    for port in redis_cluster.ports:
        with redis.Redis(host=SHARED_HOST, port=port) as node:
            node.flushdb()
    store = SessionStore(connect(redis_cluster.url))
    try:
        yield store
    finally:
        await store.close()


def node_keys(cluster: Cluster) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for port in cluster.ports:
        with redis.Redis(host=SHARED_HOST, port=port) as node:
            found[port] = {key.decode() for key in node.scan_iter(count=1000)}
    return found


async def test_the_url_gives_a_cluster_client_that_finds_every_node(
    cluster_store: SessionStore, redis_cluster: Cluster
) -> None:
    assert isinstance(cluster_store.client, RedisCluster)
    assert cluster_store.cluster
    assert await cluster_store.ping()
    primaries = cluster_store.client.get_primaries()
    assert sorted(node.port for node in primaries) == sorted(redis_cluster.ports)


async def test_citizens_spread_over_the_nodes_and_each_stays_on_one(
    cluster_store: SessionStore, redis_cluster: Cluster
) -> None:
    citizens = [f"+9751700{n:04d}" for n in range(30)]
    for citizen in citizens:
        begun = await cluster_store.begin(citizen, "SM1", 5000)
        assert await cluster_store.commit(
            citizen,
            begun.token,
            SessionRecord('{"id":"x"}', "sms", "", 1000.0),
            ttl_seconds=60,
            message_id="SM1",
            reply="[]",
            events=[{"event": "started"}],
        )
    placed = node_keys(redis_cluster)
    homes: dict[str, set[int]] = {}
    for port, keys in placed.items():
        for key in keys - {EXPIRY_INDEX, EVENTS_STREAM}:
            citizen = key.split("{", 1)[1].split("}", 1)[0]
            homes.setdefault(citizen, set()).add(port)
    assert sorted(homes) == sorted(citizens)
    assert all(len(ports) == 1 for ports in homes.values())  # a citizen lives on one node
    assert len({port for ports in homes.values() for port in ports}) > 1  # spread out
    assert len({key_slot(f"gw:{{{c}}}:s".encode()) for c in citizens}) > 1
    assert sorted(await cluster_store.due(2000, limit=100)) == sorted(citizens)
    assert len(await cluster_store.events()) == len(citizens)


async def test_a_conversation_runs_on_the_cluster(
    cluster_store: SessionStore, services_catalog: Catalog
) -> None:
    async def lookup(request: LookupRequest) -> EffectResult:
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": citizen})

    conversations = Conversations(services_catalog, cluster_store, lookup=lookup)
    citizen = "+97517123456"  # the number the census holds for that ID

    async def send(text: str, message_id: str) -> str:
        message = Message(
            citizen, Medium.SMS, text, message_id=message_id, service="business-registration"
        )
        replies = await conversations.handle(message)
        return "\n".join(reply.text for reply in replies)

    assert "Enter your citizenship ID" in await send("hi", "SM1")
    assert "Welcome Pema Wangmo" in await send("11501001234", "SM2")
    assert "Welcome Pema Wangmo" in await send("11501001234", "SM2")  # redelivered
    assert "Type of business" in await send("Druk Bakery", "SM3")

    saved = await cluster_store.read(citizen)
    assert saved is not None
    assert '"step":"business_type"' in saved.snapshot
    assert await cluster_store.due(saved.deadline) == [citizen]
    kinds = [event["event"] for event in await cluster_store.events()]
    assert kinds == ["started", "answered", "lookup", "answered"]


async def test_reload_notices_and_the_version_archive_work_on_a_cluster(
    cluster_store: SessionStore, services_catalog: Catalog
) -> None:
    assert key_slot(GENERATION_KEY.encode()) != key_slot(DIGEST_KEY.encode())
    conversations = Conversations(services_catalog, cluster_store)
    assert await published(conversations) == (0, "")
    assert await announce(conversations, "f00d") == 1
    assert await published(conversations) == (1, "f00d")

    await archive_versions(cluster_store.client, services_catalog)
    for service in services_catalog.menu():
        restored = await restore_version(cluster_store.client, service.id, service.version)
        assert restored is not None
        assert restored.definition == service.definition
