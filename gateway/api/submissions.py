"""The back office's submissions, for the admin API (`gateway.api.admin`): listed, read,
decided (approve or reject) and their documents revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query
from pydantic import BaseModel, Field

from gateway.api.deps import SubmissionsDep, SubmissionStoreDep
from gateway.api.errors import error
from gateway.submissions.service import submission_data
from state.submissions import SubmissionRow

router = APIRouter()

MAX_OFFSET = 10**9
NOT_FOUND = error(404, "No submission with this reference.")


class Decision(BaseModel):
    """An officer's decision on a pending submission."""

    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500, description="Required to reject.")


class SubmissionRecord(BaseModel):
    """A submission as the back office sees it (`submission_data`, which the back office's
    webhook sends too), with its current document token."""

    reference: str
    service: str
    version: int
    mode: str  # instant or review
    status: str
    citizen: str  # phone number or channel user id
    channel: str
    lang: str
    answers: dict[str, Any]
    applicant_id: str | None
    phone: str | None
    flags: list[str]
    check_code: str | None  # with the reference, what /verify asks for
    reason: str | None
    created_at: datetime  # UTC, written with Z
    decided_at: datetime | None
    document_token: str | None

    @classmethod
    def of(cls, row: SubmissionRow, token: str | None = None) -> SubmissionRecord:
        return cls.model_validate({**submission_data(row), "document_token": token})


class Revocation(BaseModel):
    reference: str
    revoked: int  # documents revoked now (0: none was live)


@router.get("/submissions")
async def submissions(
    store: SubmissionStoreDep,
    service: str | None = None,
    status: Literal["issued", "pending", "approved", "rejected"] | None = None,
    citizen: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[SubmissionRecord]:
    """Submissions, newest first, filtered by service, status or citizen."""
    rows = await store.listing(
        service=service, status=status, citizen=citizen, limit=limit, offset=offset
    )
    return [SubmissionRecord.of(row) for row in rows]


@router.get("/submissions/{reference}", responses={404: NOT_FOUND})
async def submission(store: SubmissionStoreDep, reference: str) -> SubmissionRecord:
    """One submission with its current document token."""
    row = await store.by_reference(reference)
    if row is None:
        raise HTTPException(404, f"no submission {reference}")
    return SubmissionRecord.of(row, await store.token_for(row.id))


@router.post(
    "/submissions/{reference}/decision",
    responses={404: NOT_FOUND, 409: error(409, "The submission was decided already.")},
)
async def decide(
    service: SubmissionsDep, reference: str, decision: Annotated[Decision, Body()]
) -> SubmissionRecord:
    """Approve (the permit is issued) or reject (with a reason); the citizen is told on
    the channel they used. A submission is decided once: 409 afterwards."""
    if decision.decision == "reject" and not (decision.reason or "").strip():
        raise HTTPException(422, "a rejection needs a reason")
    stored = await service.decide(
        reference, approve=decision.decision == "approve", reason=decision.reason
    )
    if stored is None:
        raise HTTPException(404, f"no submission {reference}")
    if not stored.created:
        raise HTTPException(409, f"{reference} is {stored.submission.status} already")
    return SubmissionRecord.of(stored.submission, stored.token)


@router.post("/submissions/{reference}/revoke", responses={404: NOT_FOUND})
async def revoke(store: SubmissionStoreDep, reference: str) -> Revocation:
    """Revoke the submission's documents: their links answer 410, the page says so."""
    if await store.by_reference(reference) is None:
        raise HTTPException(404, f"no submission {reference}")
    return Revocation(reference=reference, revoked=await store.revoke(reference))
