"""Submissions, their documents and their notifications: what a government must never lose.

One atomic write per submission stores the application, its document (for instant
services) and the notifications it owes (the citizen's link, the back office's webhook):
one statement on PostgreSQL, one transaction on SQLite. Notifications are a
transactional outbox: they exist exactly when the submission does, and a relay hands
pending ones to the job queue until they are sent, so a process killed between the
commit and the queue loses nothing.

- Idempotency: the engine's key (conversation + run + step) is unique; a retried final
  answer finds the first submission instead of making a second.
- References: `BR-2026-000123`, one counter row per prefix and year. The submission is
  stored with a placeholder and numbered right after, in a statement of its own (an
  upsert that locks the counter row only until that statement commits), so concurrent
  workers never share a number and a submission that was never stored takes none:
  unique and gapless. One stored by a process that died before numbering it is
  numbered by the next retry, the relay or the worker.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from state.database import Base, Database
from state.postgres_compat import DirectStatement
from state.timeline import SubmissionEventRow

Status = Literal["issued", "pending", "returned", "approved", "rejected"]
TOKEN_BYTES = 16  # 128 bits: a document link cannot be guessed
# A document's check code, printed on it and carried by its QR code: 50 random bits in
# letters and digits nobody mistakes for others (no 0/O, 1/I), `K7Q2M-9XD4P`. With the
# reference, it is what a verification page asks for; the reference alone shows nothing.
CHECK_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CHECK_LENGTH = 10


PLACEHOLDER = "~"  # "~BR~<random>": a submission stored, not numbered yet
_REFERENCE = re.compile(r"[A-Za-z0-9~-]{1,32}")  # any reference, numbered or not

# Numbers one submission in one statement (run in autocommit): the counter row is locked
# only for this statement and its commit. A submission numbered already takes no number.
_NUMBER_PG = DirectStatement(
    text(
        """
    WITH target AS (
        SELECT id, split_part(reference, '~', 2) AS prefix,
               CAST(EXTRACT(YEAR FROM created_at) AS INTEGER) AS year
        FROM submissions WHERE id = :id AND reference LIKE '~%' FOR UPDATE
    ), counter AS (
        INSERT INTO reference_counters (prefix, year, value)
        SELECT prefix, year, 1 FROM target
        ON CONFLICT (prefix, year) DO UPDATE SET value = reference_counters.value + 1
        RETURNING prefix, year, value
    ), numbered AS (
        UPDATE submissions
        SET reference = counter.prefix || '-' || counter.year || '-' || CASE
            WHEN counter.value < 1000000 THEN lpad(counter.value::text, 6, '0')
            ELSE counter.value::text END  -- lpad would cut a seventh digit off
        FROM counter WHERE submissions.id = :id
        RETURNING submissions.reference
    )
    SELECT reference FROM numbered
    UNION ALL
    SELECT reference FROM submissions WHERE id = :id AND NOT EXISTS (SELECT 1 FROM numbered)
    """
    )
)


def new_token() -> str:
    """A document link token: 128 random bits in 22 URL-safe characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_check_code() -> str:
    """A document's check code, e.g. `K7Q2M-9XD4P`."""
    code = "".join(secrets.choice(CHECK_ALPHABET) for _ in range(CHECK_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def normal_check_code(code: str) -> str:
    """A check code as typed (lower case, spaces, no dash) in its printed form."""
    text = "".join(c for c in code.upper() if c.isalnum())
    return f"{text[:5]}-{text[5:]}" if len(text) == CHECK_LENGTH else text


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
    check_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Who applied: the applicant's citizenship ID and the number that proved who they are
    # (the operator's, or one proved by a code), to count and flag repeated applications.
    applicant_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    flags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # for officers
    # The desk (state/desk.py): the officer it is assigned to, and while it is returned,
    # what the officer asked the citizen to correct ({"steps": [...], "note": ...}).
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), index=True, nullable=True
    )
    correction: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


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
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


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
    # pending, sent, failed; held: its number opted out (sent when it opts back in)
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)


# The tables, for Core statements (an ORM-enabled insert goes through the unit of work,
# which cost more CPU than the rest of a USSD hop).
SUBMISSIONS = cast(Table, SubmissionRow.__table__)
COUNTERS = cast(Table, ReferenceCounter.__table__)
DOCUMENTS = cast(Table, DocumentRow.__table__)
NOTIFICATIONS = cast(Table, NotificationRow.__table__)
EVENTS = cast(Table, SubmissionEventRow.__table__)

# A submission with its document and notifications in one statement (PostgreSQL, run in
# autocommit): atomic on its own, one round trip instead of BEGIN, three INSERTs and
# COMMIT, which were most of what a submission cost the gateway and the database. The
# notification ids come back in the order given.
# Earlier applications to a service by one citizenship ID and by one number (NULL equals
# nothing: not counted); under the same idempotency key it is this one again (a retried
# final answer), never a repeat. Each count uses its column's index.
PRIOR = """
    SELECT
        (SELECT count(*) FROM submissions WHERE applicant_id = :applicant_id
            AND service = :service AND created_at >= :since
            AND idempotency_key <> :idempotency_key) AS by_id,
        (SELECT count(*) FROM submissions WHERE phone = :phone
            AND service = :service AND created_at >= :since
            AND idempotency_key <> :idempotency_key) AS by_phone
"""
_SUBMIT_PG = DirectStatement(
    text(
        f"""
    WITH prior AS ({PRIOR}), submission AS (
        INSERT INTO submissions (reference, idempotency_key, service, version, mode, status,
                                 citizen, channel, lang, answers, document, created_at,
                                 updated_at, check_code, applicant_id, phone, flags)
        SELECT CAST(:reference AS VARCHAR), CAST(:idempotency_key AS VARCHAR),
               CAST(:service AS VARCHAR), CAST(:version AS INTEGER), CAST(:mode AS VARCHAR),
               CAST(:status AS VARCHAR), CAST(:citizen AS VARCHAR), CAST(:channel AS VARCHAR),
               CAST(:lang AS VARCHAR), CAST(:answers AS JSON), CAST(:document AS JSON),
               CAST(:created_at AS TIMESTAMP), CAST(:updated_at AS TIMESTAMP),
               CAST(:check_code AS VARCHAR), CAST(:applicant_id AS VARCHAR),
               CAST(:phone AS VARCHAR),
               (SELECT json_agg(flag) FROM (
                    SELECT json_array_elements_text(CAST(:flags AS JSON)) AS flag
                    UNION ALL SELECT 'repeat_id' WHERE prior.by_id > 0
                    UNION ALL SELECT 'repeat_phone' WHERE prior.by_phone > 0) AS flags)
        FROM prior
        WHERE prior.by_id < :per_id AND prior.by_phone < :per_phone
        RETURNING id
    ), document AS (
        INSERT INTO documents (submission_id, token, kind, created_at, expires_at)
        SELECT id, CAST(:token AS VARCHAR), 'certificate', :created_at, :expires_at
        FROM submission WHERE CAST(:token AS VARCHAR) IS NOT NULL
    ), notified AS (
        INSERT INTO notifications (submission_id, event, kind, channel, address, payload,
                                   status, attempts, created_at, updated_at)
        SELECT submission.id, 'submitted', owed.kind, owed.channel, owed.address,
               CAST(owed.payload AS JSON),
               CASE WHEN owed.kind = 'message' AND EXISTS (
                        SELECT 1 FROM opt_outs
                        WHERE opt_outs.address = owed.address AND opt_outs.opted_out)
                    THEN 'held' ELSE owed.status END,
               0, :created_at, :created_at
        FROM submission,
             unnest(CAST(:kinds AS VARCHAR[]), CAST(:channels AS VARCHAR[]),
                    CAST(:addresses AS VARCHAR[]), CAST(:payloads AS TEXT[]),
                    CAST(:statuses AS VARCHAR[]))
                 WITH ORDINALITY AS owed(kind, channel, address, payload, status, position)
        ORDER BY owed.position
        RETURNING id, status
    )
    SELECT submission.id, ARRAY(SELECT id FROM notified ORDER BY id) AS notifications,
           ARRAY(SELECT id FROM notified WHERE status = 'held' ORDER BY id) AS held,
           prior.by_id, prior.by_phone
    FROM prior LEFT JOIN submission ON TRUE
    """
    ).bindparams(
        bindparam("answers", type_=JSON()),
        bindparam("document", type_=JSON()),
        bindparam("flags", type_=JSON()),
    )
)

_PRIOR = text(PRIOR)  # SQLite: in the transaction that stores the submission
UNLIMITED = 2**31 - 1
# Which of these numbers opted out (state.consent keeps the table).
_OPTED_OUT = text(
    "SELECT address FROM opt_outs WHERE opted_out AND address IN :addresses"
).bindparams(bindparam("addresses", expanding=True))
Notified = tuple[tuple[int, ...], tuple[int, ...]]  # notification ids, and those held

# Built once: a statement made with `.values(...)` on every call coerced each value into
# a bound parameter and computed a new cache key (a tenth of a submission's CPU).
_INSERT_SUBMISSION = insert(SUBMISSIONS).returning(SUBMISSIONS.c.id)
_INSERT_DOCUMENT = insert(DOCUMENTS)
_INSERT_NOTIFICATIONS = insert(NOTIFICATIONS).returning(
    NOTIFICATIONS.c.id, sort_by_parameter_order=True
)


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
    applicant_id: str | None = None
    phone: str | None = None
    flags: tuple[str, ...] = ()  # what officers should know (e.g. identity_unconfirmed)
    repeats: Repeats | None = None  # None: not limited


@dataclass(frozen=True, slots=True)
class Owed:
    """A notification to create with a submission or a decision."""

    kind: Literal["message", "webhook"]
    channel: str
    address: str
    payload: dict[str, Any]
    held: bool = False  # its number opted out: kept until it opts back in


@dataclass(frozen=True, slots=True)
class Repeats:
    """At most `per_id` applications to a service by one citizenship ID, and `per_phone`
    by one number, since `since`; past them one is refused, and from the second it is
    flagged to officers (`repeat_id`, `repeat_phone`)."""

    per_id: int
    per_phone: int
    since: datetime


class TooManyApplicationsError(Exception):
    """Refused: as many applications as `Repeats` allows were made lately."""

    def __init__(self, by_id: int, by_phone: int) -> None:
        super().__init__(f"{by_id} by that ID and {by_phone} by that number lately")
        self.by_id = by_id
        self.by_phone = by_phone


@dataclass(frozen=True, slots=True)
class Stored:
    """A submission as stored, with its live document token (if any) and whether this
    call created it (False: an earlier identical call did)."""

    submission: SubmissionRow
    token: str | None
    created: bool
    notifications: tuple[int, ...] = ()
    held: tuple[int, ...] = ()  # notifications to numbers that opted out: not to be sent


class SubmissionStore:
    """The submissions tables over one `Database`."""

    def __init__(self, database: Database, document_days: int = 365) -> None:
        self.database = database
        self.document_days = document_days
        # PostgreSQL: a submission's statements (`_SUBMIT_PG`, `_NUMBER_PG`) are each
        # atomic alone and run in autocommit, on connections checked out that way.
        self.postgresql = database.engine.dialect.name == "postgresql"
        self._statements = (
            database.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.postgresql
            else database.engine
        )

    async def submit(
        self, new: NewSubmission, owed: Sequence[Owed], *, token: str | None
    ) -> Stored:
        """Store `new` once (by its idempotency key) with its reference, its document under
        `token` (when given) and its notifications; a repeat returns what the first call
        stored (and `token` is not used). Past `new.repeats`: TooManyApplicationsError,
        nothing stored; earlier applications are counted in the same statement."""
        # Core statements on one connection: the ORM's unit of work cost more CPU than
        # the rest of a USSD hop, and a submission is written once and never updated here.
        # One checkout for the write and the numbering: each checkout costs a pre-ping,
        # and round trips are most of the CPU a submission costs. Statements are
        # prebuilt; the values go as parameters.
        now = utcnow()
        # A placeholder reference holding the prefix: numbered after the commit.
        placeholder = f"{PLACEHOLDER}{new.reference_prefix}{PLACEHOLDER}"
        values = {**self._values(new, now), "reference": placeholder + secrets.token_hex(8)}
        try:
            async with self._statements.connect() as connection:
                # A repeated key fails here (unique) before any number is taken.
                submission_id, (ids, held), flags = await self._insert(
                    connection, values, owed, token, new.repeats
                )
                values["flags"] = flags
                # Committed: numbered on the same connection, in a statement of its own.
                values["reference"] = await self._number(connection, submission_id)
        except IntegrityError:
            # The same final answer again (a retry, or another worker at this moment)?
            again = await self.by_key(new.idempotency_key)
            if again is None:
                raise  # another constraint refused it: nothing was stored
            return again
        return Stored(SubmissionRow(id=submission_id, **values), token, True, ids, held)

    async def _insert(
        self,
        connection: AsyncConnection,
        values: dict[str, Any],
        owed: Sequence[Owed],
        token: str | None,
        repeats: Repeats | None,
    ) -> tuple[int, Notified, list[str] | None]:
        """The submission, its document and its notifications: `_SUBMIT_PG` on PostgreSQL
        (one statement on an autocommit connection), a transaction on SQLite, each
        counting the applicant's earlier applications first and holding messages to
        numbers that opted out. The submission's id, its notifications (all, and held)
        and its flags; TooManyApplicationsError past `repeats`."""
        now = values["created_at"]
        per_id, per_phone = (repeats.per_id, repeats.per_phone) if repeats else (UNLIMITED,) * 2
        limits = {
            "since": repeats.since if repeats else now,
            "per_id": per_id,
            "per_phone": per_phone,
        }
        if self.postgresql:
            params = {
                **values,
                **limits,
                "flags": values["flags"] or [],
                "token": token,
                "expires_at": self._expires(now),
                "kinds": [item.kind for item in owed],
                "channels": [item.channel for item in owed],
                "addresses": [item.address for item in owed],
                "payloads": [json.dumps(item.payload) for item in owed],
                "statuses": [_status(item) for item in owed],
            }
            row = await _SUBMIT_PG.fetchrow(connection, params)
            assert row is not None  # `prior` always has its one row
            by_id, by_phone = int(row["by_id"]), int(row["by_phone"])
            if row["id"] is None:
                raise TooManyApplicationsError(by_id, by_phone)
            flags = _flags(values["flags"], by_id, by_phone)
            return int(row["id"]), (tuple(row["notifications"]), tuple(row["held"])), flags
        async with connection.begin():
            prior = (await connection.execute(_PRIOR, {**values, **limits})).one()
            by_id, by_phone = int(prior.by_id), int(prior.by_phone)
            if by_id >= per_id or by_phone >= per_phone:
                raise TooManyApplicationsError(by_id, by_phone)
            flags = _flags(values["flags"], by_id, by_phone)
            row_values = {**values, "flags": flags}
            submission_id = await connection.scalar(_INSERT_SUBMISSION, row_values)
            assert submission_id is not None
            if token is not None:
                document = self._document(submission_id, "certificate", token, now)
                await connection.execute(_INSERT_DOCUMENT, document)
            notified = await self.add_notifications(
                connection, submission_id, "submitted", owed, now
            )
        return submission_id, notified, flags

    @staticmethod
    def _values(new: NewSubmission, now: datetime) -> dict[str, Any]:
        return {
            "idempotency_key": new.idempotency_key,
            "service": new.service,
            "version": new.version,
            "mode": new.mode,
            "status": "issued" if new.mode == "instant" else "pending",
            "citizen": new.citizen,
            "channel": new.channel,
            "lang": new.lang,
            "answers": new.answers,
            "document": new.document,
            "created_at": now,
            "updated_at": now,
            "check_code": new_check_code(),
            "applicant_id": new.applicant_id,
            "phone": new.phone,
            "flags": list(new.flags) or None,
        }

    async def by_key(self, key: str) -> Stored | None:
        async with self.database.sessions() as session:
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.idempotency_key == key)
            )
            if row is None:
                return None
            token = await self._live_token(session, row.id)
        if row.reference.startswith(PLACEHOLDER):  # its first try died before numbering it
            row.reference = await self.number(row.id)
        return Stored(row, token, False)

    async def by_reference(self, reference: str) -> SubmissionRow | None:
        if not _REFERENCE.fullmatch(reference):  # not one (a NUL would fail PostgreSQL)
            return None
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
        actor: str | None = None,
    ) -> Stored | None:
        """Record an officer's decision on a pending submission, once, with the permit
        under `token` when approved, and its event on the application's timeline. One
        returned for correction can be rejected (its citizen never corrected it), not
        approved. None: no such submission. A submission decided already (or not in a
        state to be) is returned unchanged (created=False)."""
        now = utcnow()
        status = "approved" if approve else "rejected"
        open_states = ("pending",) if approve else ("pending", "returned")
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            if row is None:
                return None
            # Conditional: of two officers deciding at once, one decision wins.
            changed = await session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.id == row.id, SubmissionRow.status.in_(open_states))
                .values(
                    status=status, reason=reason, decided_at=now, updated_at=now, correction=None
                )
                .execution_options(synchronize_session="fetch")
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                await session.refresh(row)
                return Stored(row, await self._live_token(session, row.id), False)
            await session.refresh(row)
            connection = await session.connection()
            if approve and token is not None:
                await connection.execute(
                    insert(DOCUMENTS).values(self._document(row.id, "permit", token, now))
                )
            ids, held = await self.add_notifications(connection, row.id, status, owed, now)
            detail = {"reason": reason} if reason else None
            await connection.execute(
                insert(EVENTS).values(
                    submission_id=row.id, at=now, kind=status, actor=actor, detail=detail
                )
            )
            return Stored(row, token if approve else None, True, ids, held)

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
        return await self.database.rows(
            select(DocumentRow)
            .where(DocumentRow.submission_id == submission_id)
            .order_by(DocumentRow.id)
        )

    async def revoke(
        self, reference: str, reason: str | None = None, actor: str | None = None
    ) -> int:
        """Revoke every live document of a submission, saying why (the verification page
        shows it) and recording it on the timeline; how many were revoked."""
        now = utcnow()
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            if row is None:
                return 0
            result = await session.execute(
                update(DocumentRow)
                .where(DocumentRow.submission_id == row.id, DocumentRow.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
            )
            revoked = int(result.rowcount)  # type: ignore[attr-defined]
            if revoked:
                detail = {"reason": reason} if reason else None
                session.add(
                    SubmissionEventRow(
                        submission_id=row.id, at=now, kind="revoked", actor=actor, detail=detail
                    )
                )
            return revoked

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

    async def hold(self, notification_id: int) -> None:
        """Keep a notification for later: its number opted out after it was owed."""
        async with self.database.sessions() as session, session.begin():
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id, NotificationRow.status == "pending")
                .values(status="held", updated_at=utcnow())
            )

    async def release_held(self, address: str) -> list[int]:
        """Make the messages held for `address` pending again (it opted back in); their
        ids, for the queue."""
        async with self.database.sessions() as session, session.begin():
            ids = list(
                (
                    await session.scalars(
                        select(NotificationRow.id).where(
                            NotificationRow.address == address, NotificationRow.status == "held"
                        )
                    )
                ).all()
            )
            if ids:
                await session.execute(
                    update(NotificationRow)
                    .where(NotificationRow.id.in_(ids), NotificationRow.status == "held")
                    .values(status="pending", updated_at=utcnow())
                )
            return ids

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
    async def number(self, submission_id: int) -> str:
        """The submission's reference, numbering it first if it has none yet.

        Numbers are taken after the submission is committed, in a statement of their
        own: taking one locks the counter row of the service and year until that commit,
        and every submission of the service queues behind it, so the lock must not wait
        for the event loop's next turn. A submission stored by a process that died before
        numbering it keeps a placeholder (`~...`) until `number` runs again (the next
        retry of the final answer, the relay or the worker): no number is ever lost.
        """
        async with self._statements.connect() as connection:
            return await self._number(connection, submission_id)

    async def _number(self, connection: AsyncConnection, submission_id: int) -> str:
        """`number` on a connection of `_statements` outside any transaction."""
        if self.postgresql:
            numbered = await _NUMBER_PG.fetchrow(connection, {"id": submission_id})
            assert numbered is not None  # the submission is there: its row or the new one
            reference = str(numbered["reference"])
            if reference.startswith(PLACEHOLDER):  # numbered meanwhile by another process
                reference = str(
                    await connection.scalar(
                        select(SUBMISSIONS.c.reference).where(SUBMISSIONS.c.id == submission_id)
                    )
                )
            return reference
        # SQLite has one writer at a time: a short transaction does the same.
        async with connection.begin():
            row = (
                await connection.execute(
                    select(SUBMISSIONS.c.reference, SUBMISSIONS.c.created_at).where(
                        SUBMISSIONS.c.id == submission_id
                    )
                )
            ).one()
            reference = str(row.reference)
            if not reference.startswith(PLACEHOLDER):
                return reference
            prefix, year = reference.split(PLACEHOLDER)[1], row.created_at.year
            value = (
                await connection.execute(
                    sqlite.insert(COUNTERS)
                    .values(prefix=prefix, year=year, value=1)
                    .on_conflict_do_update(
                        index_elements=["prefix", "year"], set_={"value": COUNTERS.c.value + 1}
                    )
                    .returning(COUNTERS.c.value)
                )
            ).scalar_one()
            reference = f"{prefix}-{year}-{value:06d}"
            await connection.execute(
                update(SUBMISSIONS)
                .where(SUBMISSIONS.c.id == submission_id)
                .values(reference=reference)
            )
            return reference

    async def unnumbered(self, older_than: timedelta, limit: int = 100) -> list[int]:
        """Submissions stored but not numbered (their process died in between)."""
        cutoff = utcnow() - older_than
        async with self.database.sessions() as session:
            rows = await session.scalars(
                select(SubmissionRow.id)
                .where(
                    SubmissionRow.reference.startswith(PLACEHOLDER),
                    SubmissionRow.created_at <= cutoff,
                )
                .order_by(SubmissionRow.id)
                .limit(limit)
            )
            return list(rows.all())

    def _document(self, submission_id: int, kind: str, token: str, now: datetime) -> dict[str, Any]:
        return {
            "submission_id": submission_id,
            "token": token,
            "kind": kind,
            "created_at": now,
            "expires_at": self._expires(now),
        }

    def _expires(self, now: datetime) -> datetime:
        """When a document issued at `now` stops being served by its link."""
        return now + timedelta(days=self.document_days)

    async def add_notifications(
        self,
        connection: AsyncConnection,
        submission_id: int,
        event: str,
        owed: Sequence[Owed],
        now: datetime,
    ) -> Notified:
        """The notifications' rows; a message to a number that opted out (in the database:
        the durable record) is held. Their ids in the order given, and the held ones."""
        if not owed:
            return (), ()
        numbers = [item.address for item in owed if item.kind == "message"]
        out: set[str] = set()
        if numbers:
            found = await connection.execute(_OPTED_OUT, {"addresses": numbers})
            out = {str(address) for address in found.scalars()}
        rows = [
            {
                "submission_id": submission_id,
                "event": event,
                "kind": item.kind,
                "channel": item.channel,
                "address": item.address,
                "payload": item.payload,
                "status": "held"
                if item.kind == "message" and item.address in out
                else _status(item),
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for item in owed
        ]
        # One statement for all of them, ids in the order given.
        result = await connection.execute(_INSERT_NOTIFICATIONS, rows)
        ids = tuple(result.scalars())
        held = tuple(i for i, row in zip(ids, rows, strict=True) if row["status"] == "held")
        return ids, held

    async def _live_token(self, session: AsyncSession, submission_id: int) -> str | None:
        token: str | None = await session.scalar(
            select(DocumentRow.token)
            .where(DocumentRow.submission_id == submission_id, DocumentRow.revoked_at.is_(None))
            .order_by(DocumentRow.id.desc())
            .limit(1)
        )
        return token


def _status(owed: Owed) -> str:
    return "held" if owed.held else "pending"


def _flags(given: list[str] | None, by_id: int, by_phone: int) -> list[str] | None:
    """What officers are told: the engine's flags, and whether the ID or the number
    applied before (as the PostgreSQL statement writes them)."""
    repeats = ["repeat_id"] * bool(by_id) + ["repeat_phone"] * bool(by_phone)
    return [*(given or []), *repeats] or None
