"""The studio's API (`/api/v1/studio/services`), for authors' machines and scripts: drafts
written as YAML or JSON, checked as `gateway check` checks them, their conversation tests
run as `gateway test` runs them, and sent for review. Role: author, on the services the
key is limited to.

Every change names the draft's revision (`If-Match: "<revision>"`, or none to make a new
draft): a change made on an older revision is refused (409) with the draft as it is now,
so two authors never overwrite each other silently. A draft with errors is kept, and
cannot be sent for review.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Request
from pydantic import BaseModel

from dialogs.yaml_source import parse_yaml
from gateway.api.auth import actor, require
from gateway.api.deps import RuntimeDep
from gateway.api.errors import error
from gateway.runtime import Runtime
from gateway.studio.drafts import (
    Checked,
    DraftFormatError,
    TestRun,
    as_yaml,
    checked,
    run_tests,
)
from gateway.studio.lists import studio_lists
from state.access import Principal, Role
from state.audit import Action
from state.studio import Draft, DraftConflictError, ReviewState

router = APIRouter(prefix="/studio/services", tags=["studio"])
Author = Annotated[Principal, require(Role.AUTHOR)]
ServiceId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,47}$")]
IfMatch = Annotated[
    str | None,
    Header(
        description='The draft\'s revision the change is made on, e.g. `"3"`; none: a new draft.'
    ),
]
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
CONFLICT = error(409, "The draft changed since that revision (or exists already): see `current`.")
NOT_FOUND = error(404, "No draft of this service.")
REVISION = re.compile(r"[0-9]{1,9}")  # a revision the database's integer holds


class DiagnosticReport(BaseModel):
    line: int
    column: int
    code: str
    severity: Literal["error", "warning"]
    message: str
    hint: str
    path: list[str | int] = []  # where in the definition, e.g. ["steps", 3, "prompt"]
    step: str | None = None  # the id of the step it is in


class DraftReport(BaseModel):
    """A draft, with what the checker says of it."""

    service: str
    revision: int
    state: ReviewState
    updated_at: datetime
    updated_by: str
    comment: str | None  # the publisher's: why it was sent back, or a publication's note
    published: int | None  # the version it runs as, until it is changed again
    publishable: bool  # no error: it can be sent for review
    diagnostics: list[DiagnosticReport]
    source: str  # the definition as stored (YAML)
    tests: str | None


class CaseReport(BaseModel):
    case: str
    medium: str
    passed: bool
    failures: list[str]


class TestsReport(BaseModel):
    passed: bool
    results: list[CaseReport]
    problems: list[DiagnosticReport]  # the tests file's own, when it could not be read


class ServiceDrafts(BaseModel):
    """A service as the studio lists it: what runs, and its draft if any."""

    id: str
    published: int | None
    running: list[int]
    draft_revision: int | None
    draft_state: ReviewState | None


def file_of(service: str) -> str:
    return f"{service}.yaml"


async def draft_checked(runtime: Runtime, draft: Draft) -> Checked:
    lists = await studio_lists(runtime)
    # Checking takes milliseconds a step (seconds for a long draft): off the loop that
    # carries citizens' hops.
    return await asyncio.to_thread(checked, draft.source, file_of(draft.service), lists)


async def report_of(runtime: Runtime, draft: Draft) -> DraftReport:
    found = await draft_checked(runtime, draft)
    return DraftReport(
        service=draft.service,
        revision=draft.revision,
        state=draft.state,
        updated_at=draft.updated_at,
        updated_by=draft.updated_by,
        comment=draft.comment,
        published=draft.published,
        publishable=found.publishable,
        diagnostics=[
            DiagnosticReport.model_validate(d, from_attributes=True) for d in found.diagnostics
        ],
        source=draft.source,
        tests=draft.tests,
    )


def revision_of(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not REVISION.fullmatch(text):  # not isdigit(): "²" is a digit int() refuses
        raise HTTPException(400, 'If-Match names a revision: "<number>"')
    return int(text)


# Names the studio's pages use beside service ids (`/console/studio/lists/...`).
RESERVED = frozenset({"lists", "static", "schema"})


def allowed(author: Principal, service: str) -> None:
    if service in RESERVED:
        raise HTTPException(422, f"{service} is a name the studio keeps: choose another id")
    if not author.may(Role.AUTHOR, service):
        raise HTTPException(404, f"no service {service} open to this key")


async def conflict(runtime: Runtime, exc: DraftConflictError) -> HTTPException:
    found = await report_of(runtime, exc.current) if exc.current else None
    current: Any = found.model_dump(mode="json") if found else None
    return HTTPException(409, {"message": "the draft changed meanwhile", "current": current})


@router.get("")
async def services(runtime: RuntimeDep, author: Author) -> list[ServiceDrafts]:
    """The services open to the key: published and running versions, and drafts."""
    catalog = runtime.conversations.catalog
    drafts = {d.service: d for d in await runtime.drafts.list()}
    ids = sorted(set(catalog.versions) | set(drafts))
    listed = []
    for service in ids:
        if not author.may(Role.AUTHOR, service):
            continue
        published = catalog.get(service)
        draft = drafts.get(service)
        listed.append(
            ServiceDrafts(
                id=service,
                published=published.version if published else None,
                running=sorted(catalog.versions.get(service, {})),
                draft_revision=draft.revision if draft else None,
                draft_state=draft.state if draft else None,
            )
        )
    return listed


@router.get("/{service}/draft", responses={404: NOT_FOUND})
async def draft(runtime: RuntimeDep, author: Author, service: ServiceId) -> DraftReport:
    """The draft with its diagnostics."""
    allowed(author, service)
    found = await runtime.drafts.get(service)
    if found is None:
        raise HTTPException(404, f"no draft of {service}")
    return await report_of(runtime, found)


@router.put(
    "/{service}/draft",
    openapi_extra=BODY,
    responses={
        409: CONFLICT,
        415: error(415, "Neither YAML nor JSON."),
        422: error(422, "Not a definition of this service."),
    },
)
async def save(
    request: Request,
    runtime: RuntimeDep,
    author: Author,
    service: ServiceId,
    if_match: IfMatch = None,
) -> DraftReport:
    """Write the draft (YAML or JSON); answers its diagnostics. A draft with errors is
    kept: it cannot be sent for review until they are fixed."""
    allowed(author, service)
    try:
        source = as_yaml(await request.body(), request.headers.get("content-type", ""))
    except DraftFormatError as exc:
        raise HTTPException(415, str(exc)) from exc
    raw, _, _ = parse_yaml(source, file_of(service))  # the id it names, unchecked
    named = raw.get("id") if isinstance(raw, dict) else None
    if named is not None and named != service:
        raise HTTPException(422, f"the definition's id is {named!r}, not {service!r}")
    try:
        saved = await runtime.drafts.save(
            service, source, revision=revision_of(if_match), by=actor(author)
        )
    except DraftConflictError as exc:
        raise await conflict(runtime, exc) from exc
    await saved_by(runtime, author, saved, "definition")
    return await report_of(runtime, saved)


async def saved_by(runtime: Runtime, author: Principal, draft: Draft, part: str) -> None:
    """On the audit log: who wrote which part of a draft, making which revision."""
    detail = {"revision": draft.revision, "part": part}
    await runtime.audit.record(actor(author), Action.DRAFT_SAVED, draft.service, detail)


@router.put(
    "/{service}/draft/tests",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
    responses={404: NOT_FOUND, 409: CONFLICT},
)
async def save_tests(
    request: Request,
    runtime: RuntimeDep,
    author: Author,
    service: ServiceId,
    if_match: IfMatch = None,
) -> DraftReport:
    """Write the draft's conversation tests (YAML, as `<service>.tests.yaml`)."""
    allowed(author, service)
    # First: a body is read (or refused past the router's max_body_size, 413) before any
    # answer, as every other body is.
    body = await request.body()
    revision = revision_of(if_match)
    if revision is None:
        raise HTTPException(428, 'name the draft\'s revision: If-Match: "<revision>"')
    try:
        tests = body.decode("utf-8")
        saved = await runtime.drafts.save_tests(service, tests, revision=revision, by=actor(author))
    except UnicodeDecodeError as exc:
        raise HTTPException(415, "the tests are not UTF-8 text") from exc
    except DraftConflictError as exc:
        raise await conflict(runtime, exc) from exc
    await saved_by(runtime, author, saved, "tests")
    return await report_of(runtime, saved)


@router.post(
    "/{service}/draft/tests/run",
    responses={404: NOT_FOUND, 409: error(409, "The draft has errors.")},
)
async def run(runtime: RuntimeDep, author: Author, service: ServiceId) -> TestsReport:
    """Run the draft's conversation tests on the draft, as `gateway test` would."""
    allowed(author, service)
    found = await runtime.drafts.get(service)
    if found is None or not found.tests:
        raise HTTPException(404, f"no draft of {service} with tests")
    try:
        ran = await asyncio.to_thread(
            run_tests,
            await draft_checked(runtime, found),
            found.tests,
            f"{service}.tests.yaml",
            runtime.conversations.catalog,
        )
    except DraftFormatError as exc:
        raise HTTPException(409, str(exc)) from exc
    return _tests_report(ran)


@router.post("/{service}/draft/review", responses={404: NOT_FOUND, 409: CONFLICT})
async def review(
    runtime: RuntimeDep, author: Author, service: ServiceId, if_match: IfMatch = None
) -> DraftReport:
    """Send the draft, as it is at the named revision, to a publisher."""
    allowed(author, service)
    found = await runtime.drafts.get(service)
    if found is None:
        raise HTTPException(404, f"no draft of {service}")
    if not (await draft_checked(runtime, found)).publishable:
        raise HTTPException(409, "the draft has errors: fix them before sending it for review")
    revision = revision_of(if_match)
    try:
        sent = await runtime.drafts.submit(
            service, revision=found.revision if revision is None else revision, by=actor(author)
        )
    except DraftConflictError as exc:
        raise await conflict(runtime, exc) from exc
    await runtime.audit.record(
        actor(author), Action.DRAFT_SUBMITTED, service, {"revision": sent.revision}
    )
    return await report_of(runtime, sent)


def _tests_report(ran: TestRun) -> TestsReport:
    return TestsReport(
        passed=ran.passed,
        results=[
            CaseReport(case=r.case, medium=r.medium.value, passed=r.passed, failures=r.failures)
            for r in ran.results
        ],
        problems=[DiagnosticReport.model_validate(d, from_attributes=True) for d in ran.problems],
    )
