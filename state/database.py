"""The database: what must outlast a conversation (the message log; submissions later).

SQLAlchemy 2 (async) with Alembic migrations: a SQLite file under `./var` by default,
PostgreSQL when `GATEWAY_DATABASE_URL` is set. Migrations run at start-up, so a new
machine and an old one end on the same schema.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


class MessageRow(Base):
    """One message in or out of the gateway, on any channel."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    address: Mapped[str] = mapped_column(String(80), index=True)
    text: Mapped[str] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    segments: Mapped[int] = mapped_column(Integer, default=0)


def database_url(url: str | None, var_dir: Path) -> str:
    """The SQLAlchemy async URL: the configured one (driver added), or SQLite under var."""
    if not url:
        var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(var_dir / 'gateway.db').resolve()}"
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Database:
    """An engine, its sessions, and the schema brought up to date."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()


class MessageLog:
    """Every message in and out, readable per address."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(self, rows: list[MessageRow]) -> None:
        async with self.database.sessions() as session, session.begin():
            session.add_all(rows)

    async def set_status(self, provider_id: str, status: str) -> int:
        """Record a delivery report; how many messages it concerned."""
        async with self.database.sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(MessageRow).where(MessageRow.provider_id == provider_id)
                )
            ).all()
            for row in rows:
                row.status = status
            return len(rows)

    async def for_address(self, address: str, limit: int = 200) -> list[MessageRow]:
        async with self.database.sessions() as session:
            rows = await session.scalars(
                select(MessageRow)
                .where(MessageRow.address == address)
                .order_by(MessageRow.id.desc())
                .limit(limit)
            )
            return list(reversed(rows.all()))


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
