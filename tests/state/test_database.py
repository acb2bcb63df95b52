"""The database and its message log: one suite on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from state.database import Database, LogEntry, MessageLog, MessageRow, database_url
from state.database import entry_values as _values


def row(address: str, direction: str, body: str, provider_id: str | None = None) -> LogEntry:
    return LogEntry(
        at=datetime(2026, 11, 28, 9, 30),
        channel="sms",
        direction=direction,
        address=address,
        text=body,
        provider_id=provider_id,
        status="received" if direction == "in" else "sent",
        segments=1,
    )


async def test_migrations_create_the_schema_and_run_twice(database: Database) -> None:
    await database.migrate()  # already at head: nothing to do, no error
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert {"messages", "alembic_version"} <= set(tables)


async def test_messages_are_kept_in_order_per_address(database: Database) -> None:
    log = MessageLog(database)
    await log.record([row("+97517123456", "in", "hi", "SM1"), row("+97577000000", "in", "x")])
    await log.record([row("+97517123456", "out", "Enter your citizenship ID")])
    found = await log.for_address("+97517123456")
    assert [(m.direction, m.text) for m in found] == [
        ("in", "hi"),
        ("out", "Enter your citizenship ID"),
    ]


async def test_delivery_reports_update_the_status(database: Database) -> None:
    log = MessageLog(database)
    await log.record([row("+97517123456", "out", "Registered", "SMout1")])
    assert await log.set_status("SMout1", "delivered") == 1
    assert await log.set_status("SMunknown", "failed") == 0
    (message,) = await log.for_address("+97517123456")
    assert message.status == "delivered"


def test_urls_get_their_async_driver(tmp_path: Path) -> None:
    assert database_url("postgresql://u@h/db", tmp_path) == "postgresql+asyncpg://u@h/db"
    assert database_url("postgres://u@h/db", tmp_path) == "postgresql+asyncpg://u@h/db"
    assert database_url(None, tmp_path / "v").startswith("sqlite+aiosqlite:///")
    assert (tmp_path / "v").is_dir()


async def test_values_longer_than_their_columns_are_cut_not_refused(database: Database) -> None:
    log = MessageLog(database)
    long = replace(row("+97517123456", "in", "x", provider_id="at:" + "9" * 300), status="s" * 50)
    await log.record([long])
    (found,) = await log.for_address("+97517123456")
    assert found.provider_id == ("at:" + "9" * 300)[:128]
    assert found.status == "s" * 20


def test_each_log_entry_field_is_a_column_written() -> None:
    """`entry_values` names the fields one by one (it runs for every row): none is left out."""
    entry = row("+97517123456", "in", "hello", provider_id="p1")
    columns = {column.name for column in MessageRow.__table__.columns} - {"id"}
    assert {f.name for f in fields(LogEntry)} == columns
    assert _values(entry) == {f.name: getattr(entry, f.name) for f in fields(LogEntry)}


async def test_a_batch_the_database_refused_is_written_with_the_next(database: Database) -> None:
    """Rows are never lost to an outage: a failed batch waits for the next write, in
    order, written whole (PostgreSQL takes batches by COPY, SQLite by INSERT)."""
    log = MessageLog(database)
    async with database.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE messages RENAME TO messages_away"))
    with pytest.raises(Exception, match="messages"):
        await log.record([row("+97517123456", "in", "first"), row("+97517123456", "out", "A")])
    async with database.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE messages_away RENAME TO messages"))
    await log.record([row("+97517123456", "in", "second")])
    found = await log.for_address("+97517123456")
    assert [m.text for m in found] == ["first", "A", "second"]
    assert [m.segments for m in found] == [1, 1, 1]
    assert all(m.at == datetime(2026, 11, 28, 9, 30) for m in found)


async def test_a_nul_or_a_lone_surrogate_is_recorded_as_the_replacement_character(
    database: Database,
) -> None:
    """PostgreSQL takes neither NUL nor a lone surrogate (a JSON body may carry one as
    "\\ud800"): one such message must not hold the log back."""
    log = MessageLog(database)
    await log.record([row("+97517123456", "in", "Druk\x00Bakery", provider_id="SM\x001")])
    await log.record([row("+97517123456", "in", "ཚོང\ud800 shop \U0001f600")])
    await log.record([row("+97517123456", "out", "Type of business")])
    found = await log.for_address("+97517123456")
    assert [(m.text, m.provider_id) for m in found] == [
        ("Druk\ufffdBakery", "SM\ufffd1"),
        ("ཚོང\ufffd shop \U0001f600", None),
        ("Type of business", None),
    ]


async def test_the_rows_of_a_cancelled_write_are_written_with_the_next(
    database: Database,
) -> None:
    """A request cancelled while its rows were being written (the client went away, a
    shutdown) gives them back to the queue."""
    log = MessageLog(database)
    insert = log._insert
    writing_started = asyncio.Event()

    async def stalled(rows: list[dict[str, Any]]) -> None:
        writing_started.set()
        await asyncio.sleep(60)

    log._insert = stalled  # type: ignore[method-assign]
    writing = asyncio.create_task(log.record([row("+97517123456", "in", "first")]))
    await writing_started.wait()
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    log._insert = insert  # type: ignore[method-assign]
    await log.record([row("+97517123456", "in", "second")])
    assert [m.text for m in await log.for_address("+97517123456")] == ["first", "second"]
