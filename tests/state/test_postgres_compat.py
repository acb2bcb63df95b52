"""What state/postgres_compat.py leans on in SQLAlchemy's asyncpg dialect, checked on the
installed versions against the real PostgreSQL: a statement run straight through asyncpg
gives what SQLAlchemy gives, and fails as SQLAlchemy fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError

from state.database import Database
from state.postgres_compat import DirectStatement
from tests.state.own_database import own_database

pytestmark = pytest.mark.integration

ROUND_TRIP = text(
    "SELECT CAST(:name AS VARCHAR) AS name, CAST(:doc AS JSON) AS doc, "
    "CAST(:name AS VARCHAR) || '!' AS again, CAST(:number AS INTEGER) + 1 AS next"
).bindparams(bindparam("doc", type_=JSON()))


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Database]:
    async with own_database("postgresql", tmp_path, "gateway_postgres_compat") as database:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (k VARCHAR(3) PRIMARY KEY)"))
        yield database


def test_a_statement_compiles_to_numbered_parameters_a_name_used_twice_taking_one() -> None:
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    sql, names, processors = DirectStatement(ROUND_TRIP).compiled(dialect)
    assert names == ("name", "doc", "number")
    assert sql.count("$1") == 2
    assert "$3" in sql
    assert "$4" not in sql
    # JSON is serialised as SQLAlchemy would, None as JSON null (not SQL NULL).
    assert set(processors) == {"doc"}
    assert processors["doc"]({"a": [1, "é"]}) == '{"a": [1, "\\u00e9"]}'
    assert processors["doc"](None) == "null"


@pytest.mark.parametrize("doc", [{"answers": {"cid": "11512345678"}, "n": [1, 2]}, None])
async def test_a_row_is_what_sqlalchemy_returns_for_the_same_statement(
    postgres: Database, doc: dict[str, object] | None
) -> None:
    params = {"name": "Pema", "doc": doc, "number": 41}
    async with postgres.engine.connect() as connection:
        expected = (await connection.execute(ROUND_TRIP, params)).one()._asdict()
        row = await DirectStatement(ROUND_TRIP).fetchrow(connection, params)
    assert row is not None
    assert dict(row) == expected == {"name": "Pema", "doc": doc, "again": "Pema!", "next": 42}


async def test_no_row_is_none(postgres: Database) -> None:
    empty = DirectStatement(text("SELECT k FROM t WHERE k = :k"))
    async with postgres.engine.connect() as connection:
        assert await empty.fetchrow(connection, {"k": "x"}) is None


async def test_errors_are_sqlalchemys_and_the_connection_serves_on(postgres: Database) -> None:
    insert = DirectStatement(text("INSERT INTO t (k) VALUES (:k) RETURNING k"))
    engine = postgres.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        assert await insert.fetchrow(connection, {"k": "a"}) is not None
        with pytest.raises(IntegrityError, match="duplicate key"):
            await insert.fetchrow(connection, {"k": "a"})
        with pytest.raises(DBAPIError, match="too long") as refused:
            await insert.fetchrow(connection, {"k": "abcd"})
        assert not refused.value.connection_invalidated
        # Autocommit: each statement stood alone, the good one is kept.
        assert await insert.fetchrow(connection, {"k": "b"}) is not None
    async with postgres.engine.connect() as connection:
        keys = (await connection.execute(text("SELECT k FROM t ORDER BY k"))).scalars().all()
    assert keys == ["a", "b"]


async def test_a_connection_that_broke_is_invalidated_and_not_pooled_again(
    postgres: Database,
) -> None:
    select_one = DirectStatement(text("SELECT CAST(:n AS INTEGER) AS n"))
    engine = postgres.engine.execution_options(isolation_level="AUTOCOMMIT")  # as submissions
    async with engine.connect() as connection:
        backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as other:  # as a failover or a restart would
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
            for _ in range(200):  # the backend ends after the signal, not with it
                if (await other.execute(gone, {"pid": backend})).scalar_one():
                    break
                await asyncio.sleep(0.01)
        with pytest.raises(DBAPIError) as broken:
            await select_one.fetchrow(connection, {"n": 1})
        assert broken.value.connection_invalidated
    async with engine.connect() as connection:  # a new connection
        row = await select_one.fetchrow(connection, {"n": 2})
        assert row is not None
        assert row["n"] == 2
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert pid != backend
