"""What submissions owe to people outside (messages to citizens, calls of the back office's
webhook), for the admin API (`gateway.api.admin`): listed, and a failed one sent again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict

from gateway.api.auth import require
from gateway.api.deps import OutboxDep, SubmissionStoreDep
from gateway.api.errors import error
from state.access import Role

router = APIRouter(dependencies=[require(Role.ADMINISTRATOR)])

# Ids are 32-bit integers in the database (PostgreSQL `integer`): a larger one is no id,
# and would fail in the driver rather than be answered 422.
MAX_ID = 2**31 - 1


class Notification(BaseModel):
    """A message or webhook call owed by a submission, and how sending it went."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    submission_id: int
    event: str  # submitted, approved, rejected
    kind: str  # message or webhook
    channel: str  # a sender's name, or "webhook"
    address: str
    status: str  # pending, held, sent, failed
    attempts: int
    last_error: str | None
    created_at: datetime  # UTC, written without an offset
    sent_at: datetime | None


@router.get("/notifications")
async def notifications(
    store: SubmissionStoreDep,
    status: Literal["pending", "held", "sent", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Notification]:
    """Messages and webhook calls owed by submissions, e.g. `?status=failed`."""
    rows = await store.notifications(status=status, limit=limit)
    return [Notification.model_validate(row) for row in rows]


@router.post(
    "/notifications/{notification_id}/retry",
    responses={404: error(404, "No notification with this id.")},
)
async def retry(
    store: SubmissionStoreDep,
    outbox: OutboxDep,
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Notification:
    """Send a failed notification again (e.g. after the back office is fixed)."""
    row = await store.reopen(notification_id)
    if row is None:
        raise HTTPException(404, f"no notification {notification_id}")
    if row.status == "pending":
        await outbox.notify([row.id], attempt=row.attempts)
    return Notification.model_validate(row)
