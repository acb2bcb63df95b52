"""A migrated database of a test module's own: a new SQLite file, or a PostgreSQL
database made for it (as `test_events.py` does), so that modules written at the same time
as the shared `test` database's table list (`conftest.py`) never drop each other's tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from state.database import Database, database_url
from tests.state import missing

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def _pg(statement: str) -> None:
    engine = create_async_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def own_database(kind: str, tmp_path: Path, name: str) -> AsyncIterator[Database]:
    """`kind` "sqlite" or "postgresql"; `name`: the PostgreSQL database's, dropped after."""
    if kind == "sqlite":
        url = database_url(None, tmp_path / "var")
    else:
        try:
            await _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await _pg(f"CREATE DATABASE {name}")
        except OSError:
            missing("PostgreSQL at 127.0.0.1:5432")
        url = database_url(f"postgresql://postgres@127.0.0.1:5432/{name}", tmp_path)
    db = Database(url)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()
        if kind == "postgresql":
            await _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
