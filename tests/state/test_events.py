"""The event archive: the Redis stream drained into the `events` table, on SQLite and on
PostgreSQL, once per entry whatever happens to the consumers.

Redis: a database of the shared server leased to each test (`redis_database`). PostgreSQL:
a database of this module's own, made and dropped around each test, so the shared `test`
database of `tests/state/conftest.py` is left as its fixture expects it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from state.connect import connect
from state.database import Database, database_url
from state.events import (
    EVENTS,
    GROUP,
    Backlog,
    EventArchive,
    archive_forever,
    backlog,
    row_values,
    stream_order,
)
from state.store import EVENTS_STREAM, Client, SessionStore
from tests.redis_databases import RedisDatabase
from tests.state import missing

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PG_NAME = "gateway_events_test"


async def _pg(statement: str) -> None:
    engine = create_async_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        url = database_url(None, tmp_path / "var")
    else:
        try:
            await _pg(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
            await _pg(f"CREATE DATABASE {PG_NAME}")
        except OSError:
            missing("PostgreSQL at 127.0.0.1:5432")
        url = database_url(f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}", tmp_path)
    db = Database(url)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()
        if request.param == "postgresql":
            await _pg(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


@pytest.fixture
async def client(redis_database: RedisDatabase) -> AsyncIterator[Client]:
    found = connect(redis_database.url)
    try:
        yield found
    finally:
        await found.aclose()


def event(kind: str, step: str, at: str, **extra: Any) -> dict[str, Any]:
    """An event as the gateway writes it, citizen's number included."""
    return {
        "event": kind,
        "service": "business-registration",
        "version": 1,
        "step": step,
        "channel": "ussd",
        "at": at,
        "citizen": "+97517123456",
        "conversation": "c0ffee",
        **extra,
    }


async def append(client: Client, count: int) -> None:
    await SessionStore(client).append_events(
        [event("answered", f"s{n}", f"2026-03-01T10:00:{n % 60:02d}") for n in range(count)]
    )


async def rows(database: Database) -> list[Any]:
    async with database.engine.connect() as connection:
        return list((await connection.execute(select(EVENTS).order_by(EVENTS.c.id))).all())


async def count(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(EVENTS))).scalar_one()
        )


async def pending(client: Client) -> int:
    summary: Any = await client.xpending(EVENTS_STREAM, GROUP)
    return int(summary["pending"])


async def test_events_are_archived_without_the_citizens_number(
    client: Client, database: Database
) -> None:
    await SessionStore(client).append_events(
        [
            event("started", "cid", "2026-03-01T10:00:00"),
            event("invalid", "cid", "2026-03-01T10:00:07.250000", reason="bad_id"),
            {"event": "opted_out", "channel": "sms", "citizen": "+97517000000", "at": "x"},
        ]
    )
    assert await EventArchive(client, database).drain() == 3
    started, invalid, opted = await rows(database)
    assert (started.event, started.service, started.version, started.step) == (
        "started",
        "business-registration",
        1,
        "cid",
    )
    assert (started.channel, started.conversation) == ("ussd", "c0ffee")
    assert started.at.isoformat() == "2026-03-01T10:00:00"
    assert json.loads(started.details) == {}
    assert invalid.at.isoformat() == "2026-03-01T10:00:07.250000"
    assert json.loads(invalid.details) == {"reason": "bad_id"}
    # No service, and an unreadable time: the stream id's time stands in.
    assert (opted.event, opted.service, opted.channel) == ("opted_out", None, "sms")
    assert opted.at.year >= 2024
    for row in (started, invalid, opted):
        assert "+975" not in repr(tuple(row)), "a phone number reached the archive"
    ids = [stream_order(row.stream_id) for row in (started, invalid, opted)]
    assert ids == sorted(ids)
    assert await pending(client) == 0


async def test_draining_twice_inserts_once_and_only_new_entries_later(
    client: Client, database: Database
) -> None:
    await append(client, 1200)  # more than two batches
    archive = EventArchive(client, database)
    assert await archive.drain() == 1200
    assert await archive.drain() == 0
    await append(client, 5)
    assert await archive.drain() == 5
    assert await count(database) == 1205
    assert await pending(client) == 0


async def test_an_entry_inserted_but_not_acknowledged_is_not_counted_twice(
    client: Client, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(client, 30)
    crashing = EventArchive(client, database, consumer="crashed")

    async def die(*_: Any) -> int:
        raise ConnectionError("the process died before XACK")

    monkeypatch.setattr(crashing.client, "xack", die)
    with pytest.raises(ConnectionError):
        await crashing.drain()
    monkeypatch.undo()
    assert await count(database) == 30  # the batch was committed...
    assert await pending(client) == 30  # ...but Redis still waits for its acknowledgement
    survivor = EventArchive(client, database, consumer="survivor", claim_idle_ms=0)
    assert await survivor.drain() == 30  # claimed, inserted again (a no-op), acknowledged
    assert await count(database) == 30
    assert await pending(client) == 0


async def test_the_backlog_counts_unread_and_unacknowledged_entries_and_their_age(
    client: Client, database: Database
) -> None:
    assert await backlog(client, 1e10) == Backlog(0, 0.0)  # no stream at all
    first = await client.xadd(EVENTS_STREAM, {"e": json.dumps(event("started", "a", "x"))})
    created = stream_order(first.decode())[0] / 1000
    await append(client, 9)
    assert await backlog(client, created + 7) == Backlog(10, 7.0)  # no group yet

    dead = EventArchive(client, database, consumer="dead")
    await dead.ensure_group()
    await client.xreadgroup(GROUP, "dead", {EVENTS_STREAM: ">"}, count=4)  # then died
    late = await backlog(client, created + 30)
    assert late.entries == 10
    assert late.oldest_seconds == pytest.approx(30, abs=0.01)  # the dead one's first

    rescuer = EventArchive(client, database, consumer="rescuer", claim_idle_ms=0)
    assert await rescuer.drain() == 10
    assert await backlog(client, created + 60) == Backlog(0, 0.0)
    newest = await client.xadd(EVENTS_STREAM, {"e": json.dumps(event("started", "b", "x"))})
    at = stream_order(newest.decode())[0] / 1000
    assert await backlog(client, at + 2) == Backlog(1, 2.0)


async def test_a_second_consumer_reclaims_a_dead_ones_entries(
    client: Client, database: Database
) -> None:
    await append(client, 40)
    dead = EventArchive(client, database, consumer="dead")
    await dead.ensure_group()
    # It read them and died before inserting anything.
    read: Any = await client.xreadgroup(GROUP, "dead", {EVENTS_STREAM: ">"}, count=25)
    assert len(read[0][1]) == 25
    patient = EventArchive(client, database, consumer="patient")  # waits CLAIM_IDLE_MS
    assert await patient.drain() == 15  # the unread ones; the dead one's may still be live
    assert await pending(client) == 25
    await asyncio.sleep(0.06)
    rescuer = EventArchive(client, database, consumer="rescuer", claim_idle_ms=50)
    assert await rescuer.drain() == 25
    assert await count(database) == 40
    assert await pending(client) == 0
    assert sorted(row.step for row in await rows(database)) == sorted(f"s{n}" for n in range(40))


async def test_concurrent_consumers_share_the_stream_without_duplicates(
    client: Client, database: Database
) -> None:
    await append(client, 2000)
    archives = [EventArchive(client, database, batch=100) for _ in range(3)]
    drained = await asyncio.gather(*(archive.drain() for archive in archives))
    assert sum(drained) == 2000
    assert await count(database) == 2000
    consumers: Any = await client.xinfo_consumers(EVENTS_STREAM, GROUP)
    assert len(consumers) == 3


async def test_entries_that_are_not_events_are_acknowledged_and_skipped(
    client: Client, database: Database
) -> None:
    await client.xadd(EVENTS_STREAM, {"e": "not json"})
    await client.xadd(EVENTS_STREAM, {"other": "field"})
    await client.xadd(EVENTS_STREAM, {"e": json.dumps({"no": "event"})})
    await append(client, 1)
    assert await EventArchive(client, database).drain() == 4
    assert [row.event for row in await rows(database)] == ["answered"]
    assert await pending(client) == 0


async def test_the_group_comes_back_after_the_stream_is_deleted(
    client: Client, database: Database
) -> None:
    archive = EventArchive(client, database)
    await append(client, 2)
    assert await archive.drain() == 2
    await client.delete(EVENTS_STREAM)  # a new Redis, or a FLUSHDB
    await append(client, 3)
    assert await archive.drain() == 3
    assert await count(database) == 5


async def test_archive_forever_drains_until_told_to_stop(
    client: Client, database: Database
) -> None:
    await append(client, 10)
    stopping = asyncio.Event()
    task = asyncio.create_task(archive_forever(client, database, 0.05, stopping))
    for _ in range(100):
        if await count(database) == 10:
            break
        await asyncio.sleep(0.02)
    await append(client, 3)
    for _ in range(100):
        if await count(database) == 13:
            break
        await asyncio.sleep(0.02)
    stopping.set()
    await asyncio.wait_for(task, 5)
    assert await count(database) == 13


def test_long_values_are_cut_to_their_columns() -> None:
    values = row_values("1-0", {b"e": json.dumps(event("answered", "x" * 500, "bad"))})
    assert values is not None
    assert len(values["step"]) == 80
    assert values["at"].isoformat() == "1970-01-01T00:00:00.001000"
    assert stream_order("1718000000000-10") > stream_order("1718000000000-9")
