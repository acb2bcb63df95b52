"""The admin API (bearer `GATEWAY_ADMIN_TOKEN`): the message log, the back office's
submissions and decisions, and the notifications that could not be delivered.

Without a configured token the admin API is closed (403), never open.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel, Field

from gateway.settings import Settings, secret
from gateway.submissions import Submissions, submission_data
from state.submissions import NotificationRow, SubmissionRow, SubmissionStore


class Decision(BaseModel):
    """An officer's decision on a pending submission."""

    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500, description="Required to reject.")


def submission_with_token(row: SubmissionRow, token: str | None = None) -> dict[str, Any]:
    return {**submission_data(row), "document_token": token}


def notification_data(row: NotificationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "submission_id": row.submission_id,
        "event": row.event,
        "kind": row.kind,
        "channel": row.channel,
        "address": row.address,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


def admin_router(settings: Settings) -> APIRouter:
    def authorised(authorization: Annotated[str, Header()] = "") -> None:
        token = secret(settings.admin_token)
        given = authorization.removeprefix("Bearer ").strip()
        if token is None or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(status_code=403, detail="a valid admin bearer token is required")

    router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[Depends(authorised)])

    @router.get("/messages")
    async def messages(
        request: Request,
        address: Annotated[str, Query(min_length=3, max_length=80)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Messages in and out for one address (phone number or channel user id)."""
        rows = await request.app.state.messages.for_address(address, limit)
        return [
            {
                "at": row.at.isoformat(),
                "channel": row.channel,
                "direction": row.direction,
                "address": row.address,
                "text": row.text,
                "provider_id": row.provider_id,
                "status": row.status,
                "segments": row.segments,
            }
            for row in rows
        ]

    @router.get("/submissions")
    async def submissions(
        request: Request,
        service: str | None = None,
        status: Literal["issued", "pending", "approved", "rejected"] | None = None,
        citizen: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Submissions, newest first, filtered by service, status or citizen."""
        store: SubmissionStore = request.app.state.submission_store
        rows = await store.listing(
            service=service, status=status, citizen=citizen, limit=limit, offset=offset
        )
        return [submission_with_token(row) for row in rows]

    @router.get("/submissions/{reference}")
    async def submission(request: Request, reference: str) -> dict[str, Any]:
        """One submission with its current document token."""
        store: SubmissionStore = request.app.state.submission_store
        row = await store.by_reference(reference)
        if row is None:
            raise HTTPException(404, f"no submission {reference}")
        return submission_with_token(row, await store.token_for(row.id))

    @router.post("/submissions/{reference}/decision")
    async def decide(
        request: Request, reference: str, decision: Annotated[Decision, Body()]
    ) -> dict[str, Any]:
        """Approve (the permit is issued) or reject (with a reason); the citizen is told on
        the channel they used. A submission is decided once: 409 afterwards."""
        if decision.decision == "reject" and not (decision.reason or "").strip():
            raise HTTPException(422, "a rejection needs a reason")
        service: Submissions = request.app.state.submissions
        stored = await service.decide(
            reference, approve=decision.decision == "approve", reason=decision.reason
        )
        if stored is None:
            raise HTTPException(404, f"no submission {reference}")
        if not stored.created:
            raise HTTPException(409, f"{reference} is {stored.submission.status} already")
        return submission_with_token(stored.submission, stored.token)

    @router.post("/submissions/{reference}/revoke")
    async def revoke(request: Request, reference: str) -> dict[str, Any]:
        """Revoke the submission's documents: their links answer 410, the page says so."""
        store: SubmissionStore = request.app.state.submission_store
        if await store.by_reference(reference) is None:
            raise HTTPException(404, f"no submission {reference}")
        return {"reference": reference, "revoked": await store.revoke(reference)}

    @router.get("/notifications")
    async def notifications(
        request: Request,
        status: Literal["pending", "sent", "failed"] | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Messages and webhook calls owed by submissions, e.g. `?status=failed`."""
        store: SubmissionStore = request.app.state.submission_store
        return [
            notification_data(row) for row in await store.notifications(status=status, limit=limit)
        ]

    @router.post("/notifications/{notification_id}/retry")
    async def retry(request: Request, notification_id: int) -> dict[str, Any]:
        """Send a failed notification again (e.g. after the back office is fixed)."""
        store: SubmissionStore = request.app.state.submission_store
        row = await store.reopen(notification_id)
        if row is None:
            raise HTTPException(404, f"no notification {notification_id}")
        if row.status == "pending":
            await request.app.state.outbox.notify([row.id], attempt=row.attempts)
        return notification_data(row)

    return router
