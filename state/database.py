"""The database: what must outlast a conversation (the message log; submissions later).

SQLAlchemy 2 (async) with Alembic migrations: a SQLite file under `./var` by default,
PostgreSQL when `GATEWAY_DATABASE_URL` is set. Migrations run at start-up, so a new
machine and an old one end on the same schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Integer, Select, String, Text, event, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from state.postgres_compat import driver_of

MIGRATIONS = Path(__file__).parent / "migrations"
logger = logging.getLogger(__name__)


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


@dataclass(slots=True)
class LogEntry:
    """A message to record: plain values, as cheap to make on every hop as a tuple
    (an ORM instance cost more than the rest of the logging together)."""

    at: datetime
    channel: str
    direction: str  # "in" or "out"
    address: str
    text: str
    provider_id: str | None
    status: str
    segments: int = 0


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


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # Write-ahead log: readers never block the writer, and a commit appends to the log
    # instead of rewriting pages; NORMAL sync is durable across a crashed process (the
    # WAL's documented trade-off is only the last commits on power loss).
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


_Row = TypeVar("_Row")


class Database:
    """An engine, its sessions, and the schema brought up to date."""

    def __init__(self, url: str) -> None:
        sqlite = url.startswith("sqlite")
        # A pool as large as the concurrent transactions of a busy worker: opening a
        # PostgreSQL connection costs more than a whole USSD hop.
        options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 20}
        if sqlite:
            # One connection per process: SQLite has one writer at a time anyway, and two
            # connections of one process waiting on each other sleep in SQLite's busy
            # handler (up to 100 ms a turn) where waiting for the pool costs nothing.
            # `timeout`: wait for another process's writer instead of failing.
            options = {"pool_size": 1, "max_overflow": 0, "connect_args": {"timeout": 15}}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def rows(self, query: Select[_Row]) -> list[_Row]:
        """Every row a one-entity query finds, in a short session of its own."""
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def migrate(self) -> None:
        """Bring the schema to the newest migration; safe when several workers start at
        once (they take turns: an advisory lock on PostgreSQL, a file lock on SQLite)."""
        database = self.engine.url.database or ""
        if self.engine.dialect.name == "sqlite" and database not in ("", ":memory:"):
            with open(f"{database}.migrate-lock", "w") as lock:
                await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
                try:
                    await self._upgrade()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            return
        await self._upgrade()

    async def _upgrade(self) -> None:
        async with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(72657)"))
            await connection.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()


class MessageLog:
    """Every message in and out, readable per address.

    Writes are batched: `record` queues rows and a flusher writes them together, every
    `FLUSH_SECONDS` or `FLUSH_ROWS`, so a busy USSD hop never waits on a database write
    (one transaction per hop made SQLite the bottleneck of the whole gateway).
    """

    FLUSH_SECONDS = 0.2
    FLUSH_ROWS = 500
    MAX_PENDING = 200_000

    def __init__(self, database: Database) -> None:
        self.database = database
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = False

    async def record(self, rows: list[LogEntry]) -> None:
        """Queue rows for the next batch (written at once when no flusher runs)."""
        values = [entry_values(row) for row in rows]
        if self._flusher is None:  # rows a failed write left behind go first
            values, self._pending = self._pending + values, []
            await self._write(values)
            return
        self._pending += values
        if len(self._pending) >= self.FLUSH_ROWS:
            self._wake.set()

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever())

    async def stop(self) -> None:
        if self._flusher is not None:
            # Not cancelled: a write cancelled half-way would leave its connection behind.
            self._stopping = True
            self._wake.set()
            await self._flusher
            self._flusher = None
        try:
            await self.flush()
        except Exception:  # shutting down: say what is lost, never fail the shutdown
            logger.error("message log: %d rows could not be written", len(self._pending))

    async def flush(self) -> None:
        rows, self._pending = self._pending, []
        if rows:
            await self._write(rows)

    async def _flush_forever(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.FLUSH_SECONDS)
            self._wake.clear()
            if self._stopping:
                return  # `stop` writes what is left
            try:
                await self.flush()
            except Exception:  # the database is down: keep the rows for the next try
                logger.warning("message log write failed; will retry", exc_info=True)

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            await self._insert(rows)
        except BaseException:  # a cancelled write too: its rows were taken from the queue
            self._pending[:0] = rows  # not lost: retried with the next batch
            if len(self._pending) > self.MAX_PENDING:  # a long outage: keep memory bounded
                dropped = len(self._pending) - self.MAX_PENDING
                del self._pending[:dropped]
                logger.error("message log unavailable: %d oldest rows dropped", dropped)
            raise

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        if self.database.engine.dialect.name == "postgresql":
            await self._copy(rows)
        else:
            # Plain rows through Core: no ORM state to go stale if a batch has to wait.
            async with self.database.engine.begin() as connection:
                await connection.execute(insert(MessageRow), rows)

    async def _copy(self, rows: list[dict[str, Any]]) -> None:
        """The batch in one COPY (asyncpg's binary copy): a multi-row INSERT built by
        SQLAlchemy cost the gateway 8% of a USSD hop and PostgreSQL several times the CPU
        of a COPY. One statement: the batch is written whole or not at all."""
        records = [tuple(row[name] for name in _COPIED) for row in rows]
        async with self.database.engine.connect() as connection:
            await (await driver_of(connection)).copy_records_to_table(
                MessageRow.__tablename__, records=records, columns=_COPIED
            )

    async def set_status(self, provider_id: str, status: str) -> int:
        """Record a delivery report; how many messages it concerned."""
        await self.flush()
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
        await self.flush()  # what was just recorded is visible at once
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


_COPIED = [column.name for column in MessageRow.__table__.columns if column.name != "id"]
# The text columns and their lengths (None: unbounded; Text is a String too).
_TEXTS: dict[str, int | None] = {
    column.name: column.type.length
    for column in MessageRow.__table__.columns
    if isinstance(column.type, String)
}


def entry_values(row: LogEntry) -> dict[str, Any]:
    """A log entry as the values of its row."""
    # Written out rather than looped over the fields: this runs for every row of every hop
    # (tests/state/test_database.py checks that it names every column).
    values = {
        "at": row.at,
        "channel": row.channel,
        "direction": row.direction,
        "address": row.address,
        "text": row.text,
        "provider_id": row.provider_id,
        "status": row.status,
        "segments": row.segments,
    }
    # PostgreSQL refuses a value longer than its column, and one refused row would hold
    # back its whole batch; a provider id built from a long USSD text can be that long.
    for name, limit in _TEXTS.items():
        value = values[name]
        if isinstance(value, str):
            values[name] = _storable(value[:limit])
    return values


def _storable(text: str) -> str:
    """`text` with what no database takes as U+FFFD: a NUL character (anyone can type one
    into a web chat or percent-encode one into an SMS callback) and a lone surrogate (a
    JSON body may carry "\\ud800"). Either held back its whole batch of the log."""
    if not text.isascii():
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
