"""The audit log: recorded, read and exported; append-only in the database itself. One
suite on a new SQLite file and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from state.audit import Action, AuditEntry, AuditFilter, AuditLog
from state.database import MIGRATIONS, Database
from tests.state.own_database import own_database

START = datetime(2026, 3, 1, 9, 0, 0)


class Clock:
    """A minute later at every entry."""

    def __init__(self) -> None:
        self.at = START - timedelta(minutes=1)

    def __call__(self) -> datetime:
        self.at += timedelta(minutes=1)
        return self.at


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with own_database(request.param, tmp_path, "gateway_audit_test") as db:
        yield db


@pytest.fixture
def audit(database: Database) -> AuditLog:
    return AuditLog(database, Clock())


async def fill(audit: AuditLog) -> None:
    """Five entries, at 09:00 to 09:04."""
    await audit.record("cli:root", Action.ACCOUNT_CREATED, "pema@gov.bt", {"grants": []})
    await audit.record("pema@gov.bt", Action.SIGN_IN, None, None, "203.0.113.7")
    await audit.record("pema@gov.bt", Action.APPROVED, "BR-2026-000001")
    await audit.record("key:back-office", Action.REJECTED, "BR-2026-000002", {"reason": "no"})
    await audit.record("pema@gov.bt", Action.SIGN_OUT, None, None, "203.0.113.7")


def actions(entries: list[AuditEntry]) -> list[str]:
    return [entry.action.value for entry in entries]


async def test_entries_are_read_newest_first_with_what_was_recorded(audit: AuditLog) -> None:
    await fill(audit)
    entries = await audit.entries()
    assert actions(entries) == ["sign_out", "rejected", "approved", "sign_in", "account_created"]
    rejected = entries[1]
    assert rejected.actor == "key:back-office"
    assert rejected.target == "BR-2026-000002"
    assert rejected.detail == {"reason": "no"}
    assert rejected.at == START + timedelta(minutes=3)
    assert entries[0].address == "203.0.113.7"
    assert isinstance(entries[0].action, Action)


async def test_filters_and_paging(audit: AuditLog) -> None:
    await fill(audit)
    by_pema = await audit.entries(AuditFilter(actor="pema@gov.bt"))
    assert actions(by_pema) == ["sign_out", "approved", "sign_in"]
    assert actions(await audit.entries(AuditFilter(action=Action.SIGN_IN))) == ["sign_in"]
    window = AuditFilter(since=START + timedelta(minutes=1), until=START + timedelta(minutes=3))
    assert actions(await audit.entries(window)) == ["approved", "sign_in"]  # until excluded
    assert actions(await audit.entries(limit=2)) == ["sign_out", "rejected"]
    assert actions(await audit.entries(limit=2, offset=2)) == ["approved", "sign_in"]
    assert actions(await audit.entries(limit=2, offset=4)) == ["account_created"]
    nobody = AuditFilter(actor="pema@gov.bt", action=Action.REJECTED)
    assert await audit.entries(nobody) == []


async def test_the_export_goes_oldest_first_in_batches(audit: AuditLog) -> None:
    await fill(audit)
    exported = [entry async for entry in audit.export(batch=2)]
    assert actions(exported) == ["account_created", "sign_in", "approved", "rejected", "sign_out"]
    only = [e async for e in audit.export(AuditFilter(actor="pema@gov.bt"), batch=1)]
    assert actions(only) == ["sign_in", "approved", "sign_out"]
    assert [e async for e in audit.export(AuditFilter(action=Action.PUBLISHED))] == []


async def test_overlong_values_are_cut_to_their_columns_not_lost(audit: AuditLog) -> None:
    await audit.record("a" * 400, Action.SIGN_IN_FAILED, "t" * 400, None, "x" * 200)
    (entry,) = await audit.entries()
    assert (len(entry.actor), len(entry.target or ""), len(entry.address or "")) == (254, 254, 80)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone else'",
        "UPDATE audit_log SET detail = NULL WHERE id = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE action = 'approved'",
    ],
)
async def test_the_database_refuses_to_change_or_delete_entries(
    audit: AuditLog, database: Database, statement: str
) -> None:
    await fill(audit)
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as connection:
            await connection.execute(text(statement))
    entries = await audit.entries()
    assert len(entries) == 5
    assert entries[-1].actor == "cli:root"


async def test_postgresql_refuses_truncate_too(audit: AuditLog, database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        return  # SQLite has no TRUNCATE (its `DELETE FROM` without WHERE is refused above)
    await fill(audit)
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as connection:
            await connection.execute(text("TRUNCATE audit_log"))
    assert len(await audit.entries()) == 5


def test_the_store_has_no_way_to_change_an_entry() -> None:
    public = {name for name in dir(AuditLog) if not name.startswith("_")}
    assert public == {"record", "entries", "export"}


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


async def test_the_migrations_go_down_and_up_again(audit: AuditLog, database: Database) -> None:
    await fill(audit)
    async with database.engine.begin() as connection:
        await connection.run_sync(_alembic, "downgrade", "0006")
    await database.migrate()
    await fill(audit)
    assert len(await audit.entries()) == 5  # a new, empty table: the triggers again
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as connection:
            await connection.execute(text("DELETE FROM audit_log"))
