"""Each application's timeline at the desk.

An event is appended whenever something happens to an application (submitted, viewed,
assigned, returned, corrected, decided, revoked); the application page lists them with
the notifications sent, and the figures (decision times, returned rate) count them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from state.database import Base


class EventKind(StrEnum):
    """What happened to an application at the desk. Its submission and decision times are
    the submission's own columns (`created_at`, `decided_at`): the hot path of a citizen's
    final answer writes no event."""

    VIEWED = "viewed"  # an officer opened it
    ASSIGNED = "assigned"  # detail: {"to": email or None}
    RETURNED = "returned"  # for correction; detail: {"steps": [...], "note": ...}
    CORRECTED = "corrected"  # the citizen corrected it and confirmed again
    APPROVED = "approved"
    REJECTED = "rejected"  # detail: {"reason": ...}
    REVOKED = "revoked"  # its documents; detail: {"reason": ...}


class SubmissionEventRow(Base):
    __tablename__ = "submission_events"
    __table_args__ = (Index("ix_submission_events_kind_at", "kind", "at"),)  # the figures

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    kind: Mapped[str] = mapped_column(String(20))  # an EventKind
    actor: Mapped[str | None] = mapped_column(String(254), nullable=True)  # an email, or None
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
