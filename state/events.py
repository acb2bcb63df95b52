"""The conversation events, archived from the Redis stream into the database.

The engine's events (`started`, `answered`, `invalid`, `expired`, `completed`...) are
appended to the capped stream `gw:events` (`state.store.EVENTS_STREAM`, about the last
million kept). The stream is where they are written cheaply on every hop; the `events`
table is where they stay for analytics (`gateway/analytics/funnel.py`).

Draining is safe with any number of API processes and idempotent:
- one consumer group (`archive`) for all processes: Redis hands each entry to one
  consumer, and an entry leaves the group's pending list only when it was inserted and
  acknowledged;
- a process that dies between reading and acknowledging leaves its entries pending; any
  other process claims them after `CLAIM_IDLE_MS` (`XAUTOCLAIM`) and inserts them again;
- the unique `stream_id` column makes a second insert of an entry (the dead process did
  commit before it died) a no-op, so nothing is counted twice.

Data minimisation: the citizen's number (`citizen`) is never stored. The conversation id
(a random hex, in the snapshot only) is enough to follow one attempt through its steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import ResponseError
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from state.database import Base, Database
from state.store import EVENTS_STREAM, Client, text_of

logger = logging.getLogger(__name__)

GROUP = "archive"
ARCHIVE_SECONDS = 5.0  # how often the worker (or `gateway serve` running it) drains
BATCH = 500  # entries a read; one insert statement each
CLAIM_IDLE_MS = 60_000  # a consumer silent this long with entries pending is presumed dead
STALE_CONSUMER_MS = 24 * 3600 * 1000  # consumers idle this long with nothing pending: removed
COLUMNS = ("event", "service", "version", "step", "channel", "conversation", "at")
PRIVATE = frozenset({"citizen"})  # never archived


class EventRow(Base):
    """One conversation event, as the engine and the gateway emitted it."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_service_at", "service", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(String(32), unique=True)  # "1718000000000-0"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    event: Mapped[str] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(80), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    step: Mapped[str | None] = mapped_column(String(80), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(40), nullable=True)
    conversation: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(Text)  # JSON of the other fields, `citizen` left out


EVENTS = EventRow.__table__
_LIMITS = {
    column.name: column.type.length
    for column in EVENTS.columns
    if isinstance(column.type, String) and column.type.length
}


def stream_order(stream_id: str) -> tuple[int, int]:
    """A stream id as a sortable pair: "1718000000000-10" sorts after "...-9"."""
    millis, _, sequence = stream_id.partition("-")
    return int(millis), int(sequence or 0)


def _time(value: Any, stream_id: str) -> datetime:
    """The event's own time (naive UTC, as the engine writes it); the stream id's
    milliseconds when it has none or an unreadable one."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            return parsed
    millis = stream_order(stream_id)[0]
    return datetime.fromtimestamp(millis / 1000, UTC).replace(tzinfo=None)


def row_values(stream_id: str, fields: Any) -> dict[str, Any] | None:
    """The row for one stream entry; None for an entry that is not an event (it is
    acknowledged and skipped: retrying it would never succeed)."""
    raw = None
    if isinstance(fields, dict):
        raw = fields.get(b"e", fields.get("e"))
    try:
        event = json.loads(text_of(raw)) if raw is not None else None
    except ValueError:
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return None
    version = event.get("version")
    values: dict[str, Any] = {
        "stream_id": stream_id,
        "at": _time(event.get("at"), stream_id),
        "event": event["event"],
        "service": _optional(event.get("service")),
        "version": version if isinstance(version, int) else None,
        "step": _optional(event.get("step")),
        "channel": _optional(event.get("channel")),
        "conversation": _optional(event.get("conversation")),
        "details": json.dumps(
            {k: v for k, v in event.items() if k not in COLUMNS and k not in PRIVATE},
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        ),
    }
    # PostgreSQL refuses a value longer than its column, and one refused row would hold
    # back its whole batch (and, redelivered, every batch after it).
    for name, limit in _LIMITS.items():
        value = values[name]
        if isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
    return values


def _optional(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass
class EventArchive:
    """Drains `gw:events` into the `events` table as one consumer of the group."""

    client: Client
    database: Database
    consumer: str = ""
    batch: int = BATCH
    claim_idle_ms: int = CLAIM_IDLE_MS
    _group_ready: bool = False

    def __post_init__(self) -> None:
        if not self.consumer:
            # Unique per process and start: a restarted process must not inherit (and
            # silently skip) the entries its previous life left pending.
            self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"

    async def ensure_group(self) -> None:
        """Create the group at the stream's start (and the stream, when still empty)."""
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(EVENTS_STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):  # another process created it first: fine
                raise
        self._group_ready = True

    async def drain(self, max_batches: int | None = None) -> int:
        """Archive what is waiting: first entries a dead consumer left pending, then new
        ones, a batch at a time, until none is left (or `max_batches` were read).
        How many entries were acknowledged."""
        try:
            return await self._drain(max_batches)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream went away with its group (FLUSHDB, a new Redis): make both again.
            self._group_ready = False
            return await self._drain(max_batches)

    async def _drain(self, max_batches: int | None) -> int:
        await self.ensure_group()
        done = await self.reclaim()
        batches = 0
        while max_batches is None or batches < max_batches:
            reply: Any = await self.client.xreadgroup(
                GROUP, self.consumer, {EVENTS_STREAM: ">"}, count=self.batch
            )
            entries = reply[0][1] if reply else []
            if not entries:
                break
            done += await self._archive(entries)
            batches += 1
        return done

    async def reclaim(self) -> int:
        """Take over entries pending for longer than `claim_idle_ms` on any consumer
        (one that died between reading and acknowledging), archive them, and forget
        consumers long gone with nothing pending."""
        done = 0
        cursor = "0-0"
        while True:
            reply: Any = await self.client.xautoclaim(
                EVENTS_STREAM,
                GROUP,
                self.consumer,
                self.claim_idle_ms,
                start_id=cursor,
                count=self.batch,
            )
            cursor = text_of(reply[0])
            # Redis 6.2 returns trimmed entries as (id, None); 7 lists them apart and
            # drops them from the pending list itself.
            done += await self._archive(reply[1] or [])
            if cursor == "0-0":
                break
        await self._forget_stale_consumers()
        return done

    async def _forget_stale_consumers(self) -> None:
        consumers: Any = await self.client.xinfo_consumers(EVENTS_STREAM, GROUP)
        for consumer in consumers:
            name = text_of(consumer.get("name", ""))
            if (
                name != self.consumer
                and int(consumer.get("pending", 0)) == 0
                and int(consumer.get("idle", 0)) > STALE_CONSUMER_MS
            ):
                await self.client.xgroup_delconsumer(EVENTS_STREAM, GROUP, name)

    async def _archive(self, entries: Sequence[Any]) -> int:
        """Insert a batch (entries already archived are left as they are), then
        acknowledge it. Inserted before acknowledged: a crash in between re-delivers,
        and the unique stream id makes the second insert a no-op."""
        if not entries:
            return 0
        ids = [text_of(entry_id) for entry_id, _ in entries]
        rows = []
        for (_, fields), stream_id in zip(entries, ids, strict=True):
            values = row_values(stream_id, fields) if fields is not None else None
            if values is not None:
                rows.append(values)
            elif fields is not None:
                logger.warning("events: skipped stream entry %s (not an event)", stream_id)
        if rows:
            await self._insert(rows)
        await self.client.xack(EVENTS_STREAM, GROUP, *ids)
        return len(ids)

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        async with self.database.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(EVENTS).on_conflict_do_nothing(index_elements=["stream_id"])
            await connection.execute(statement, rows)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the archive has still to do: an alert on `oldest_seconds` sees a stuck
    archiver (database down, every process failing) before the capped stream drops
    events that were never archived."""

    entries: int  # in the stream and not archived yet: never read, or read and not acked
    oldest_seconds: float  # how long the oldest of them has waited; 0 when none


async def backlog(client: Client, now: float) -> Backlog:
    """The archive's backlog at `now` (seconds since the epoch)."""
    try:
        groups: Any = await client.xinfo_groups(EVENTS_STREAM)
    except ResponseError:  # no stream: nothing was ever written
        return Backlog(0, 0.0)
    group = next((g for g in groups if text_of(g["name"]) == GROUP), None)
    if group is None:  # nothing read yet: the whole stream waits
        first: Any = await client.xrange(EVENTS_STREAM, count=1)
        waiting = int(await client.xlen(EVENTS_STREAM)) if first else 0
        return Backlog(waiting, _age(first[0][0], now) if first else 0.0)
    pending = int(group["pending"])
    lag = group.get("lag")
    # Redis cannot tell the lag once entries past the last delivered one were trimmed:
    # then the whole stream is unread.
    unread = int(lag) if lag is not None else int(await client.xlen(EVENTS_STREAM))
    oldest: list[float] = []
    if pending:
        summary: Any = await client.xpending(EVENTS_STREAM, GROUP)
        oldest.append(_age(summary["min"], now))
    if unread:
        after = "(" + text_of(group["last-delivered-id"])
        following: Any = await client.xrange(EVENTS_STREAM, min=after, count=1)
        if following:
            oldest.append(_age(following[0][0], now))
    return Backlog(pending + unread, max(oldest, default=0.0))


def _age(stream_id: Any, now: float) -> float:
    milliseconds, _ = stream_order(text_of(stream_id))
    return max(0.0, now - milliseconds / 1000)


async def archive_forever(
    client: Client,
    database: Database,
    every: float,
    stopping: asyncio.Event,
    *,
    archive: EventArchive | None = None,
) -> None:
    """Drain the stream every `every` seconds until `stopping` is set (`archive`: the
    process's consumer, shared with the analytics API, which drains before it counts).

    Stopped by `stopping`, never cancelled: a transaction cancelled half-way would leave
    its connection behind. What is read but not yet acknowledged when a process dies is
    claimed by another (or by this one's next life) after `CLAIM_IDLE_MS`.
    """
    archive = archive or EventArchive(client, database)
    while not stopping.is_set():
        try:
            archived = await archive.drain()
            if archived:
                logger.debug("archived %d events", archived)
        except Exception:  # Redis or the database down: next time, never crash the app
            logger.warning("event archive failed; retrying in %s s", every, exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)


@dataclass
class ArchiveLoop:
    """`archive_forever` in the background of a process, stopped without cancelling."""

    client: Client
    task: asyncio.Task[None]
    stopping: asyncio.Event

    @classmethod
    def start(
        cls,
        client: Client,
        database: Database,
        every: float = ARCHIVE_SECONDS,
        *,
        archive: EventArchive | None = None,
    ) -> ArchiveLoop:
        stopping = asyncio.Event()
        task = asyncio.create_task(
            archive_forever(client, database, every, stopping, archive=archive)
        )
        return cls(client, task, stopping)

    async def stop(self) -> None:
        self.stopping.set()
        await self.task
