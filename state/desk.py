"""The applications desk in the database: the officers' queue, assignment, returning an
application for correction and taking the corrected answers back, and each
application's timeline (`state.timeline`).

Every change that two officers could make at once is one conditional UPDATE (on the
status it starts from), so one wins and the other is told what happened instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, select, update

from state.accounts import AccountRow
from state.database import Database, MessageRow
from state.submissions import NotificationRow, Owed, SubmissionRow, SubmissionStore, utcnow
from state.timeline import EventKind, SubmissionEventRow

__all__ = ["DeskStore", "EventKind", "Queue", "QueueFilter", "Returned", "SubmissionEventRow"]

MAX_PAGE = 100
_S = TypeVar("_S", bound=Select)  # type: ignore[type-arg]  # any Select: variadic


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which applications an officer's queue shows, and in what order."""

    services: frozenset[str] | None  # the services the officer may see; None: all
    service: str | None = None
    status: str | None = None
    reference: str | None = None  # the start of a reference, any case
    since: datetime | None = None  # submitted at or after (UTC)
    until: datetime | None = None  # ... and before
    assigned_to: int | None = None
    oldest_first: bool = False
    limit: int = 25
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    submission: SubmissionRow
    assignee: str | None  # the assigned officer's email


@dataclass(frozen=True, slots=True)
class Queue:
    items: tuple[QueueItem, ...]
    total: int  # how many match, over every page


@dataclass(frozen=True, slots=True)
class Returned:
    """The outcome of returning an application: the row as it is now, whether this call
    returned it, and the notifications it owes (to queue)."""

    submission: SubmissionRow
    returned: bool
    notifications: tuple[int, ...] = ()
    held: tuple[int, ...] = ()


class DeskStore:
    """The desk's reads and writes over the submissions tables."""

    def __init__(self, database: Database, submissions: SubmissionStore) -> None:
        self.database = database
        self.submissions = submissions

    # ------------------------------------------------------------------ reading
    async def queue(self, wanted: QueueFilter) -> Queue:
        query = self._filtered(select(SubmissionRow, AccountRow.email), wanted).outerjoin(
            AccountRow, AccountRow.id == SubmissionRow.assigned_to
        )
        order = SubmissionRow.id.asc() if wanted.oldest_first else SubmissionRow.id.desc()
        counted = self._filtered(select(func.count()).select_from(SubmissionRow), wanted)
        limit = max(1, min(wanted.limit, MAX_PAGE))
        async with self.database.sessions() as session:
            total = int(await session.scalar(counted) or 0)
            rows = await session.execute(query.order_by(order).limit(limit).offset(wanted.offset))
            items = tuple(QueueItem(row[0], row[1]) for row in rows)
        return Queue(items, total)

    @staticmethod
    def _filtered(query: _S, wanted: QueueFilter) -> _S:
        # Instant certificates never wait for an officer: the desk shows the reviewed.
        query = query.where(SubmissionRow.mode == "review")
        if wanted.services is not None:
            query = query.where(SubmissionRow.service.in_(sorted(wanted.services)))
        if wanted.service:
            query = query.where(SubmissionRow.service == wanted.service)
        if wanted.status:
            query = query.where(SubmissionRow.status == wanted.status)
        if wanted.reference:
            pattern = wanted.reference.strip().upper().replace("%", "").replace("_", "") + "%"
            query = query.where(SubmissionRow.reference.like(pattern))
        if wanted.since:
            query = query.where(SubmissionRow.created_at >= wanted.since)
        if wanted.until:
            query = query.where(SubmissionRow.created_at < wanted.until)
        if wanted.assigned_to is not None:
            query = query.where(SubmissionRow.assigned_to == wanted.assigned_to)
        return query

    async def timeline(self, submission_id: int) -> list[SubmissionEventRow]:
        return await self.database.rows(
            select(SubmissionEventRow)
            .where(SubmissionEventRow.submission_id == submission_id)
            .order_by(SubmissionEventRow.id)
        )

    async def notifications_of(self, submission_id: int) -> list[NotificationRow]:
        return await self.database.rows(
            select(NotificationRow)
            .where(NotificationRow.submission_id == submission_id)
            .order_by(NotificationRow.id)
        )

    async def messages_of(
        self, citizen: str, *, since: datetime, limit: int = 80
    ) -> list[MessageRow]:
        """The citizen's messages with the gateway from an hour before `since` (the
        conversation that made the application, and what came after), oldest first."""
        return await self.database.rows(
            select(MessageRow)
            .where(MessageRow.address == citizen, MessageRow.at >= since - timedelta(hours=1))
            .order_by(MessageRow.id)
            .limit(limit)
        )

    async def assignee(self, submission: SubmissionRow) -> str | None:
        if submission.assigned_to is None:
            return None
        async with self.database.sessions() as session:
            email: str | None = await session.scalar(
                select(AccountRow.email).where(AccountRow.id == submission.assigned_to)
            )
            return email

    async def returned_to(self, citizen: str) -> SubmissionRow | None:
        """The citizen's oldest application waiting for their correction."""
        async with self.database.sessions() as session:
            row: SubmissionRow | None = await session.scalar(
                select(SubmissionRow)
                .where(SubmissionRow.citizen == citizen, SubmissionRow.status == "returned")
                .order_by(SubmissionRow.id)
                .limit(1)
            )
            return row

    # ------------------------------------------------------------------ writing
    async def record(
        self,
        submission_id: int,
        kind: EventKind,
        actor: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        async with self.database.sessions() as session, session.begin():
            session.add(
                SubmissionEventRow(
                    submission_id=submission_id, at=utcnow(), kind=kind, actor=actor, detail=detail
                )
            )

    async def assign(
        self, reference: str, account_id: int | None, assignee: str | None, actor: str
    ) -> SubmissionRow | None:
        """Assign an application (None: to nobody); None when there is no such one."""
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            if row is None:
                return None
            row.assigned_to, row.updated_at = account_id, utcnow()
            session.add(
                SubmissionEventRow(
                    submission_id=row.id,
                    at=row.updated_at,
                    kind=EventKind.ASSIGNED,
                    actor=actor,
                    detail={"to": assignee},
                )
            )
            return row

    async def return_for_correction(
        self,
        reference: str,
        *,
        steps: Sequence[str],
        note: str,
        officer_id: int | None,
        actor: str,
        owed: Sequence[Owed],
    ) -> Returned | None:
        """Return a pending application to its citizen, naming the answers to correct; it
        stays (or becomes) assigned to the officer who returned it. None: no such
        application; `returned` False: it was not pending (decided, or returned already)."""
        now = utcnow()
        correction = {"steps": list(steps), "note": note}
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(SubmissionRow.reference == reference)
            )
            if row is None:
                return None
            changed = await session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.id == row.id, SubmissionRow.status == "pending")
                .values(
                    status="returned",
                    correction=correction,
                    assigned_to=func.coalesce(SubmissionRow.assigned_to, officer_id),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            await session.refresh(row)
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                return Returned(row, returned=False)
            # One notification per return (a second return is a second message).
            times = await session.scalar(
                select(func.count()).where(
                    SubmissionEventRow.submission_id == row.id,
                    SubmissionEventRow.kind == EventKind.RETURNED,
                )
            )
            session.add(
                SubmissionEventRow(
                    submission_id=row.id,
                    at=now,
                    kind=EventKind.RETURNED,
                    actor=actor,
                    detail=correction,
                )
            )
            connection = await session.connection()
            ids, held = await self.submissions.add_notifications(
                connection, row.id, f"returned:{int(times or 0) + 1}", owed, now
            )
            return Returned(row, True, ids, held)

    async def amend(
        self,
        reference: str,
        citizen: str,
        answers: dict[str, Any],
        document: dict[str, Any] | None,
    ) -> SubmissionRow | None:
        """The citizen's corrected answers to their returned application: it is pending
        again, for the officer it is assigned to. A retried confirmation finds it pending
        already and returns it; None when it is not this citizen's, or not returned."""
        now = utcnow()
        async with self.database.sessions() as session, session.begin():
            row = await session.scalar(
                select(SubmissionRow).where(
                    SubmissionRow.reference == reference, SubmissionRow.citizen == citizen
                )
            )
            if row is None:
                return None
            changed = await session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.id == row.id, SubmissionRow.status == "returned")
                .values(
                    status="pending",
                    answers=answers,
                    document=document if document is not None else row.document,
                    correction=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            await session.refresh(row)
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                corrected = await session.scalar(
                    select(func.count()).where(
                        and_(
                            SubmissionEventRow.submission_id == row.id,
                            SubmissionEventRow.kind == EventKind.CORRECTED,
                        )
                    )
                )
                # Corrected already (a retry): the same answer; otherwise refused.
                return row if row.status == "pending" and corrected else None
            session.add(
                SubmissionEventRow(
                    submission_id=row.id, at=now, kind=EventKind.CORRECTED, actor=None
                )
            )
            return row
