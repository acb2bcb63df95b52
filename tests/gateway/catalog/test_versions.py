"""The archive of published service versions in Redis (a database leased to each test)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialogs.catalog import Catalog
from gateway.catalog.repository import load_repository
from gateway.catalog.versions import VERSIONS_KEY, archive_versions, dump, restore_version
from state.connect import connect
from state.store import Client
from tests.redis_databases import RedisDatabase

ROOT = Path(__file__).resolve().parents[3]
SERVICE = "business-registration"


def archived(database: RedisDatabase, field: str | None = None) -> Any:
    """What the archive holds (a sync client, as an operator's redis-cli would see it)."""
    with database.client() as sync:
        return sync.hkeys(VERSIONS_KEY) if field is None else sync.hget(VERSIONS_KEY, field)


@pytest.fixture
async def client(redis_database: RedisDatabase) -> AsyncIterator[Client]:
    connection = connect(redis_database.url)
    yield connection
    await connection.aclose()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_repository([ROOT / "services"]).catalog


async def test_every_version_round_trips_to_the_same_definition(
    client: Client, catalog: Catalog, redis_database: RedisDatabase
) -> None:
    await archive_versions(client, catalog)
    stored = archived(redis_database)
    assert sorted(stored) == sorted(f"{s.id}@{s.version}".encode() for s in catalog.menu())
    for service in catalog.menu():
        restored = await restore_version(client, service.id, service.version)
        assert restored is not None
        assert restored is not service
        assert restored.definition == service.definition
        assert restored.order == service.order
        assert restored.edit_targets == service.edit_targets


async def test_unknown_versions_are_none(client: Client, catalog: Catalog) -> None:
    await archive_versions(client, catalog)
    assert await restore_version(client, SERVICE, 99) is None
    assert await restore_version(client, "no-such-service", 1) is None


async def test_the_first_content_under_a_number_stays_and_a_change_is_reported(
    client: Client,
    catalog: Catalog,
    caplog: pytest.LogCaptureFixture,
    redis_database: RedisDatabase,
) -> None:
    field = f"{SERVICE}@1"
    with redis_database.client() as connection:
        connection.hset(VERSIONS_KEY, field, "earlier content")
    with caplog.at_level(logging.WARNING, logger="gateway.catalog.versions"):
        await archive_versions(client, catalog)
    assert archived(redis_database, field) == b"earlier content"
    assert f"service {SERVICE} version 1 differs" in caplog.text
    assert "drone-flight-authorization" not in caplog.text  # the same content: quiet
    service = catalog.get(SERVICE)
    assert service is not None
    assert archived(redis_database, "drone-flight-authorization@1") is not None
    assert dump(service) != "earlier content"


async def test_an_unreadable_archive_entry_is_none(
    client: Client, caplog: pytest.LogCaptureFixture, redis_database: RedisDatabase
) -> None:
    with redis_database.client() as connection:
        connection.hset(VERSIONS_KEY, f"{SERVICE}@1", '{"format": 9}')
    with caplog.at_level(logging.WARNING, logger="gateway.catalog.versions"):
        assert await restore_version(client, SERVICE, 1) is None
    assert "cannot be read" in caplog.text


async def test_redis_down_is_logged_not_raised(
    catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    closed = connect("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="gateway.catalog.versions"):
        await archive_versions(closed, catalog)
        assert await restore_version(closed, SERVICE, 1) is None
    assert "could not archive service versions" in caplog.text
    assert "could not read archived service versions" in caplog.text
    await closed.aclose()
