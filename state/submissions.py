"""Submissions, their documents and their notifications: what a government must never lose.

One transaction per submission writes the application, its human reference, its document
(for instant services) and the notifications it owes (the citizen's link, the back
office's webhook). Notifications are a transactional outbox: they exist exactly when the
submission does, and a relay hands pending ones to the job queue until they are sent, so a
process killed between the commit and the queue loses nothing.

- Idempotency: the engine's key (conversation + run + step) is unique; a retried final
  answer finds the first submission instead of making a second.
- References: `BR-2026-000123`, one counter row per prefix and year, incremented inside
  the submission's transaction (an upsert that locks the row until commit), so concurrent
  workers never share a number and a rolled-back submission gives its number back:
  unique and gapless.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from state.database import Base, Database

Status = Literal["issued", "pending", "approved", "rejected"]
TOKEN_BYTES = 16  # 128 bits: a document link cannot be guessed


def new_token() -> str:
    """A document link token: 128 random bits in 22 URL-safe characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class SubmissionRow(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    service: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))  # instant or review
    status: Mapped[str] = mapped_column(String(20), index=True)
    citizen: Mapped[str] = mapped_column(String(80), index=True)  # phone or channel user id
    channel: Mapped[str] = mapped_column(String(20))
    lang: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # certificate or permit
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


class NotificationRow(Base):
    """Something owed to someone outside: a message to the citizen, a webhook call."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("submission_id", "event", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    event: Mapped[str] = mapped_column(String(20))  # submitted, approved, rejected
    kind: Mapped[str] = mapped_column(String(10))  # message or webhook
    channel: Mapped[str] = mapped_column(String(40))  # a sender's name, or "webhook"
    address: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


@dataclass(frozen=True, slots=True)
class NewSubmission:
    """What the conversation hands over for storing."""

    idempotency_key: str
    service: str
    version: int
    mode: str
    reference_prefix: str
    citizen: str
    channel: str
    lang: str
    answers: dict[str, Any]
    document: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Owed:
    """A notification to create with a submission or a decision."""

    kind: Literal["message", "webhook"]
    channel: str
    address: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Stored:
    """A submission as stored, with its live document token (if any) and whether this
    call created it (False: an earlier identical call did)."""

    submission: SubmissionRow
    token: str | None
    created: bool
    notifications: tuple[int, ...] = ()


class SubmissionStore:
    """The submissions tables over one `Database`."""

    def __init__(self, database: Database, document_days: int = 365) -> None:
        self.database = database
        self.document_days = document_days

    async def submit(
        self, new: NewSubmission, owed: Sequence[Owed], *, token: str | None
    ) -> Stored:
        """Store `new` once (by its idempotency key) with its reference, its document under
        `token` (when given) and its notifications; a repeat returns what the first call
        stored (and `token` is not used)."""
        existing = await self.by_key(new.idempotency_key)
        if existing is not None:
            return existing
        try:
            async with self.database.sessions() as session, session.begin():
                now = utcnow()
                reference = await self._next_reference(session, new.reference_prefix, now.year)
                row = SubmissionRow(
                    reference=reference,
                    idempotency_key=new.idempotency_key,
                    service=new.service,
                    version=new.version,
                    mode=new.mode,
                    status="issued" if new.mode == "instant" else "pending",
                    citizen=new.citizen,
                    channel=new.channel,
                    lang=new.lang,
                    answers=new.answers,
                    document=new.document,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                await session.flush()
                if token is not None:
                    self._add_document(session, row, "certificate", token, now)
                ids = await self._add_notifications(session, row, "submitted", owed, now)
            return Stored(row, token, True, ids)
        except IntegrityError:
            # The same final answer, submitted at the same moment by another worker.
            again = await self.by_key(new.idempotency_key)
            if again is None:
                raise
            return again

    async def by_key(self, key: str) -> Stored | None:
        async with self.database.sessions() as session:
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.idempotency_key == key)
            )
            if row is None:
                return None
            return Stored(row, await self._live_token(session, row.id), False)

    async def by_reference(self, reference: str) -> SubmissionRow | None:
        async with self.database.sessions() as session:
            row: SubmissionRow | None = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            return row

    async def by_id(self, submission_id: int) -> SubmissionRow | None:
        async with self.database.sessions() as session:
            return await session.get(SubmissionRow, submission_id)

    async def live_document(self, submission_id: int) -> DocumentRow | None:
        """The newest document of a submission that is not revoked."""
        async with self.database.sessions() as session:
            row: DocumentRow | None = await session.scalar(
                select(DocumentRow)
                .where(DocumentRow.submission_id == submission_id, DocumentRow.revoked_at.is_(None))
                .order_by(DocumentRow.id.desc())
                .limit(1)
            )
            return row

    async def token_for(self, submission_id: int) -> str | None:
        async with self.database.sessions() as session:
            return await self._live_token(session, submission_id)

    async def listing(
        self,
        *,
        service: str | None = None,
        status: str | None = None,
        citizen: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[SubmissionRow]:
        query = select(SubmissionRow).order_by(SubmissionRow.id.desc())
        if service:
            query = query.where(SubmissionRow.service == service)
        if status:
            query = query.where(SubmissionRow.status == status)
        if citizen:
            query = query.where(SubmissionRow.citizen == citizen)
        async with self.database.sessions() as session:
            return list((await session.scalars(query.limit(limit).offset(offset))).all())

    async def decide(
        self,
        reference: str,
        *,
        approve: bool,
        reason: str | None,
        owed: Sequence[Owed],
        token: str | None,
    ) -> Stored | None:
        """Record an officer's decision on a pending submission, once, with the permit
        under `token` when approved. None: no such submission. A submission decided
        already is returned unchanged (created=False)."""
        now = utcnow()
        status = "approved" if approve else "rejected"
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            if row is None:
                return None
            # Conditional: of two officers deciding at once, one decision wins.
            changed = await session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.id == row.id, SubmissionRow.status == "pending")
                .values(status=status, reason=reason, decided_at=now, updated_at=now)
                .execution_options(synchronize_session="fetch")
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                await session.refresh(row)
                return Stored(row, await self._live_token(session, row.id), False)
            await session.refresh(row)
            if approve and token is not None:
                self._add_document(session, row, "permit", token, now)
            ids = await self._add_notifications(session, row, status, owed, now)
            return Stored(row, token if approve else None, True, ids)

    # ------------------------------------------------------------------ documents
    async def document(self, token: str) -> tuple[DocumentRow, SubmissionRow] | None:
        async with self.database.sessions() as session:
            found = (
                await session.execute(
                    select(DocumentRow, SubmissionRow)
                    .join(SubmissionRow, DocumentRow.submission_id == SubmissionRow.id)
                    .where(DocumentRow.token == token)
                )
            ).first()
            return (found[0], found[1]) if found is not None else None

    async def documents_of(self, submission_id: int) -> list[DocumentRow]:
        async with self.database.sessions() as session:
            rows = await session.scalars(
                select(DocumentRow)
                .where(DocumentRow.submission_id == submission_id)
                .order_by(DocumentRow.id)
            )
            return list(rows.all())

    async def revoke(self, reference: str) -> int:
        """Revoke every live document of a submission; how many were revoked."""
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            if row is None:
                return 0
            result = await session.execute(
                update(DocumentRow)
                .where(DocumentRow.submission_id == row.id, DocumentRow.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ notifications
    async def notification(self, notification_id: int) -> NotificationRow | None:
        async with self.database.sessions() as session:
            return await session.get(NotificationRow, notification_id)

    async def pending_notifications(
        self, older_than: timedelta, limit: int = 100
    ) -> list[NotificationRow]:
        """Pending notifications created before now - `older_than` (the relay's work)."""
        cutoff = utcnow() - older_than
        async with self.database.sessions() as session:
            rows = await session.scalars(
                select(NotificationRow)
                .where(NotificationRow.status == "pending", NotificationRow.created_at <= cutoff)
                .order_by(NotificationRow.id)
                .limit(limit)
            )
            return list(rows.all())

    async def notifications(
        self, *, status: str | None = None, limit: int = 100
    ) -> list[NotificationRow]:
        query = select(NotificationRow).order_by(NotificationRow.id.desc()).limit(limit)
        if status:
            query = query.where(NotificationRow.status == status)
        async with self.database.sessions() as session:
            return list((await session.scalars(query)).all())

    async def record_attempt(
        self, notification_id: int, *, sent: bool, error: str | None = None, final: bool = False
    ) -> None:
        """One more try of a notification: sent, or failed (for good when `final`)."""
        now = utcnow()
        values: dict[str, Any] = {
            "attempts": NotificationRow.attempts + 1,
            "updated_at": now,
            "last_error": None if sent else (error or "")[:2000],
        }
        if sent:
            values.update(status="sent", sent_at=now)
        elif final:
            values["status"] = "failed"
        async with self.database.sessions() as session, session.begin():
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id, NotificationRow.status != "sent")
                .values(**values)
            )

    async def reopen(self, notification_id: int) -> NotificationRow | None:
        """A failed notification made pending again (an operator's retry)."""
        async with self.database.sessions() as session, session.begin():
            row = await session.get(NotificationRow, notification_id)
            if row is None:
                return None
            if row.status == "failed":
                row.status = "pending"
                row.updated_at = utcnow()
            return row

    # ------------------------------------------------------------------ internals
    async def _next_reference(self, session: AsyncSession, prefix: str, year: int) -> str:
        dialect = self.database.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(ReferenceCounter)
            .values(prefix=prefix, year=year, value=1)
            .on_conflict_do_update(
                index_elements=["prefix", "year"],
                set_={"value": ReferenceCounter.value + 1},
            )
            .returning(ReferenceCounter.value)
        )
        value = (await session.execute(statement)).scalar_one()
        return f"{prefix}-{year}-{value:06d}"

    def _add_document(
        self, session: AsyncSession, row: SubmissionRow, kind: str, token: str, now: datetime
    ) -> None:
        session.add(
            DocumentRow(
                submission_id=row.id,
                token=token,
                kind=kind,
                created_at=now,
                expires_at=now + timedelta(days=self.document_days),
            )
        )

    async def _add_notifications(
        self,
        session: AsyncSession,
        row: SubmissionRow,
        event: str,
        owed: Sequence[Owed],
        now: datetime,
    ) -> tuple[int, ...]:
        rows = [
            NotificationRow(
                submission_id=row.id,
                event=event,
                kind=item.kind,
                channel=item.channel,
                address=item.address,
                payload=item.payload,
                status="pending",
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            for item in owed
        ]
        session.add_all(rows)
        await session.flush()
        return tuple(n.id for n in rows)

    async def _live_token(self, session: AsyncSession, submission_id: int) -> str | None:
        token: str | None = await session.scalar(
            select(DocumentRow.token)
            .where(DocumentRow.submission_id == submission_id, DocumentRow.revoked_at.is_(None))
            .order_by(DocumentRow.id.desc())
            .limit(1)
        )
        return token
