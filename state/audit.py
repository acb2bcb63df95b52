"""The audit log: who did what to whom, from where, kept for as long as the database.

Append-only twice over: this module has no way to change or delete an entry, and the
database refuses to (migration 0008's triggers, on SQLite and on PostgreSQL), so that
neither a bug nor someone with the application's own database account can quietly
rewrite history; only a schema owner who drops the triggers could.

Entries are read newest first for the console and the API, and exported oldest first
(`export`), in batches, so a year of entries streams without being held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, Select, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from state.access import MAX_EMAIL_LENGTH
from state.database import Base, Database, now

MAX_TARGET_LENGTH = 254
MAX_ADDRESS_LENGTH = 80
EXPORT_BATCH = 1000


class Action(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    CORRECTED = "corrected"
    REVOKED = "revoked"  # an application's documents
    ASSIGNED = "assigned"
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    PASSWORD_RESET = "password_reset"
    CODES_ON = "codes_on"  # one-time codes (TOTP) set up
    CODES_OFF = "codes_off"
    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    PUBLISHED = "published"
    DRAFT_STARTED = "draft_started"  # from a blank page, a copy or a template
    DRAFT_SAVED = "draft_saved"  # its definition or its tests written
    DRAFT_SUBMITTED = "draft_submitted"  # sent by its author to a publisher
    DRAFT_RETURNED = "draft_returned"  # sent back to its authors by a publisher
    ROLLED_BACK = "rolled_back"  # an earlier version published again, as a new one
    LIST_SAVED = "list_saved"  # a shared list written in the studio


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)
    # An email, `key:NAME`, `bootstrap`, `cli:USER`: whoever acted, as they were known then.
    actor: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), index=True)
    action: Mapped[str] = mapped_column(String(32))  # an Action
    target: Mapped[str | None] = mapped_column(String(MAX_TARGET_LENGTH), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    address: Mapped[str | None] = mapped_column(String(MAX_ADDRESS_LENGTH), nullable=True)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime  # UTC, naive as every stored time
    actor: str
    action: Action
    target: str | None  # an email, a key's name, an application's reference, a service
    detail: dict[str, Any] | None
    address: str | None  # the client's address, when it came over HTTP

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=Action(row.action),
            target=row.target,
            detail=row.detail,
            address=row.address,
        )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries: every one that matches all the given fields (`until` excluded)."""

    action: Action | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[AuditRow]) -> Select[AuditRow]:
        if self.action is not None:
            query = query.where(AuditRow.action == self.action.value)
        if self.actor is not None:
            query = query.where(AuditRow.actor == self.actor)
        if self.since is not None:
            query = query.where(AuditRow.at >= self.since)
        if self.until is not None:
            query = query.where(AuditRow.at < self.until)
        return query


class AuditLog:
    """Entries recorded and read; never changed, never deleted."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = now) -> None:
        self.database = database
        self.clock = clock

    async def record(
        self,
        actor: str,
        action: Action | str,  # a str is checked: ValueError if it is no Action
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> None:
        """Append one entry, in a transaction of its own (committed when this returns)."""
        # Cut to the columns rather than refused: PostgreSQL refuses a value too long for
        # its column, and an entry must never be lost over an odd address or target.
        values = {
            "at": self.clock(),
            "actor": actor[:MAX_EMAIL_LENGTH],
            "action": Action(action).value,
            "target": None if target is None else target[:MAX_TARGET_LENGTH],
            "detail": detail,
            "address": None if address is None else address[:MAX_ADDRESS_LENGTH],
        }
        async with self.database.engine.begin() as connection:
            await connection.execute(insert(AuditRow), [values])

    async def entries(
        self, where: AuditFilter = AuditFilter(), *, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]:
        """The matching entries, newest first."""
        query = where.apply(select(AuditRow)).order_by(AuditRow.id.desc())
        async with self.database.sessions() as session:
            rows = await session.scalars(query.limit(limit).offset(offset))
            return [AuditEntry.of(row) for row in rows]

    async def export(
        self, where: AuditFilter = AuditFilter(), *, batch: int = EXPORT_BATCH
    ) -> AsyncIterator[AuditEntry]:
        """Every matching entry, oldest first (the order a log is read and archived in).

        In batches after the last id seen, each in a short session of its own: no
        transaction stays open while a slow client downloads, and entries appended
        meanwhile come at the end instead of shifting pages."""
        after = 0
        while True:
            query = where.apply(select(AuditRow)).where(AuditRow.id > after)
            async with self.database.sessions() as session:
                rows = list(await session.scalars(query.order_by(AuditRow.id).limit(batch)))
            for row in rows:
                yield AuditEntry.of(row)
            if len(rows) < batch:
                return
            after = rows[-1].id
