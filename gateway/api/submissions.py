"""The back office's submissions, for the API (`gateway.api.admin`): listed, read, decided
(approve or reject) and their documents revoked, by a key with the officer role.

An officer's key limited to some services sees only their applications: the list leaves
the others out, and one of another service answers 404 as if it did not exist (to read,
decide or revoke), so a key tells nothing of what it may not touch. Decisions and
revocations go to the audit log, naming the key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from gateway.api.auth import actor, require
from gateway.api.deps import DeskDep, RuntimeDep, SubmissionStoreDep
from gateway.api.errors import error
from gateway.submissions.desk import Acted
from gateway.submissions.service import submission_data
from state.access import Principal, Role
from state.audit import Action
from state.submissions import SubmissionRow, SubmissionStore

router = APIRouter()

MAX_OFFSET = 10**9
NOT_FOUND = error(404, "No submission with this reference (or not of this key's services).")
Officer = Annotated[Principal, require(Role.OFFICER)]


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
    revoked: bool  # its valid documents are revoked now


async def _visible(
    store: SubmissionStore, officer: Principal, reference: str
) -> SubmissionRow | None:
    """The submission, unless absent or of a service the officer's key is not given."""
    row = await store.by_reference(reference)
    if row is None or not officer.may(Role.OFFICER, row.service):
        return None
    return row


async def _listing(
    store: SubmissionStore,
    services: frozenset[str] | None,
    *,
    service: str | None,
    status: str | None,
    citizen: str | None,
    limit: int,
    offset: int,
) -> list[SubmissionRow]:
    """`SubmissionStore.listing`, narrowed to `services` (None: every service)."""
    if services is None or (service and service in services):
        return await store.listing(
            service=service, status=status, citizen=citizen, limit=limit, offset=offset
        )
    if service:  # a service not given to this key: as if it had no applications
        return []
    # The store lists one service or all; the officer's several, newest first as it does.
    query = select(SubmissionRow).where(SubmissionRow.service.in_(sorted(services)))
    if status:
        query = query.where(SubmissionRow.status == status)
    if citizen:
        query = query.where(SubmissionRow.citizen == citizen)
    query = query.order_by(SubmissionRow.id.desc()).limit(limit).offset(offset)
    async with store.database.sessions() as session:
        return list((await session.scalars(query)).all())


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/submissions")
async def submissions(
    store: SubmissionStoreDep,
    officer: Officer,
    service: str | None = None,
    status: Literal["issued", "pending", "returned", "approved", "rejected"] | None = None,
    citizen: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[SubmissionRecord]:
    """Submissions, newest first, filtered by service, status or citizen (only those of
    the services the key is limited to, if it is)."""
    rows = await _listing(
        store,
        officer.services(Role.OFFICER),
        service=service,
        status=status,
        citizen=citizen,
        limit=limit,
        offset=offset,
    )
    return [SubmissionRecord.of(row) for row in rows]


@router.get("/submissions/{reference}", responses={404: NOT_FOUND})
async def submission(
    store: SubmissionStoreDep, officer: Officer, reference: str
) -> SubmissionRecord:
    """One submission with its current document token."""
    row = await _visible(store, officer, reference)
    if row is None:
        raise HTTPException(404, f"no submission {reference}")
    return SubmissionRecord.of(row, await store.token_for(row.id))


CONFLICT = error(409, "Another officer acted first: the submission is no longer pending.")
INVALID = error(
    422, "The request cannot be carried out as given (e.g. a rejection without reason)."
)


def _answer(acted: Acted, reference: str) -> SubmissionRow:
    """The submission an act left, or the HTTP error that says why there is none."""
    if acted.outcome == "not_found":
        raise HTTPException(404, f"no submission {reference}")
    if acted.outcome == "conflict":
        raise HTTPException(409, acted.message)
    if acted.outcome == "invalid" or acted.submission is None:
        raise HTTPException(422, acted.message)
    return acted.submission


@router.post(
    "/submissions/{reference}/decision",
    responses={404: NOT_FOUND, 409: CONFLICT, 422: INVALID},
)
async def decide(
    desk: DeskDep,
    runtime: RuntimeDep,
    officer: Officer,
    request: Request,
    reference: str,
    decision: Annotated[Decision, Body()],
) -> SubmissionRecord:
    """Approve (the permit is issued) or reject (with a reason); the citizen is told on
    the channel they used. A submission is decided once: 409 afterwards. A returned one
    can be rejected (its citizen never corrected it), not approved."""
    approve = decision.decision == "approve"
    acted = await desk.decide(officer, reference, approve=approve, reason=decision.reason)
    row = _answer(acted, reference)
    await runtime.audit.record(
        actor(officer),
        Action.APPROVED if approve else Action.REJECTED,
        reference,
        None if approve else {"reason": decision.reason},
        _address(request),
    )
    return SubmissionRecord.of(row, await runtime.submission_store.token_for(row.id))


class ReturnForCorrection(BaseModel):
    """What the citizen is to correct: the answers (step ids, as in `answers`) and a note."""

    steps: list[Annotated[str, Field(max_length=80)]] = Field(min_length=1, max_length=50)
    note: str = Field(min_length=1, max_length=500)


@router.post(
    "/submissions/{reference}/return",
    responses={404: NOT_FOUND, 409: CONFLICT, 422: INVALID},
)
async def return_for_correction(
    desk: DeskDep,
    runtime: RuntimeDep,
    officer: Officer,
    request: Request,
    reference: str,
    correction: Annotated[ReturnForCorrection, Body()],
) -> SubmissionRecord:
    """Return a pending submission to its citizen: they are told on their channel, and
    their next message or dial takes them to those answers and back to the summary;
    confirming makes it pending again."""
    acted = await desk.return_for_correction(
        officer, reference, steps=correction.steps, note=correction.note
    )
    row = _answer(acted, reference)
    await runtime.audit.record(
        actor(officer),
        Action.RETURNED,
        reference,
        {"steps": correction.steps, "note": correction.note},
        _address(request),
    )
    return SubmissionRecord.of(row)


class RevocationRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Shown on the check page.")


@router.post(
    "/submissions/{reference}/revoke", responses={404: NOT_FOUND, 409: CONFLICT, 422: INVALID}
)
async def revoke(
    desk: DeskDep,
    runtime: RuntimeDep,
    officer: Officer,
    request: Request,
    reference: str,
    revocation: Annotated[RevocationRequest, Body()],
) -> Revocation:
    """Revoke the submission's documents, saying why: their links answer 410, and the
    check page says the document was revoked and why. 409 when none is valid."""
    acted = await desk.revoke(officer, reference, revocation.reason)
    _answer(acted, reference)
    await runtime.audit.record(
        actor(officer), Action.REVOKED, reference, {"reason": revocation.reason}, _address(request)
    )
    return Revocation(reference=reference, revoked=True)
