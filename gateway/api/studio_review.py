"""The studio's review API (`/api/v1/studio/...`): how a draft starts (a blank page, a copy
of a running service, a template), and what a publisher reads before publishing it: the
draft against the live version in words, the conversations in progress that the change
meets, and the draft's diagram.

Starting a draft is an author's act, on the services the key is limited to; reading the
difference, the impact and the diagram is an author's or a publisher's.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from dialogs.compiler import CompiledService, compile_service
from dialogs.definition import ServiceDefinition
from gateway.api.auth import actor, require
from gateway.api.deps import RuntimeDep
from gateway.api.errors import error
from gateway.api.fields import Line
from gateway.api.studio import allowed, file_of
from gateway.catalog.graph import GraphError
from gateway.runtime import Runtime
from gateway.studio import diagram, starts
from gateway.studio.diff import DefinitionDiff, compare
from gateway.studio.drafts import Checked, checked
from gateway.studio.impact import in_flight
from gateway.studio.lists import studio_lists
from gateway.studio.publishing import with_version
from state.access import Principal, Role
from state.audit import Action
from state.studio import DraftConflictError

router = APIRouter(prefix="/studio", tags=["studio"])
Author = Annotated[Principal, require(Role.AUTHOR)]
Reviewer = Annotated[Principal, require(Role.PUBLISHER, Role.AUTHOR)]
SERVICE_PATTERN = r"^[a-z][a-z0-9-]{1,47}$"  # dialogs.definition.ServiceId
ServiceId = Annotated[str, Path(pattern=SERVICE_PATTERN)]
NO_DRAFT = error(404, "No draft of this service (or not open to this key).")
UNREADABLE = error(409, "The draft has errors: fix them first.")


class StartRequest(BaseModel):
    """Where the new draft starts."""

    model_config = ConfigDict(extra="forbid")

    # published: the next version of the service itself, from the version it runs.
    start: Literal["blank", "copy", "template", "published"]
    template: Literal["registration", "permit", "information"] | None = None
    copy_of: str | None = Field(default=None, pattern=SERVICE_PATTERN)
    # The new service's (none: the published one's own).
    title: Line | None = Field(default=None, min_length=1, max_length=80)
    reference_prefix: str | None = Field(default=None, pattern=r"^[A-Z]{2,4}$")


class StartReport(BaseModel):
    service: str
    revision: int
    version: int
    reference_prefix: str | None  # the submit steps' (None: the draft submits nothing)
    source: str  # the draft as stored (YAML)


class TemplateReport(BaseModel):
    name: str
    title: str
    description: str


class TextChangeReport(BaseModel):
    field: str
    language: str
    old: str | None
    new: str | None


class PlacedReport(BaseModel):
    step: str
    after: str | None  # the step it follows; None: first


class StepChangeReport(BaseModel):
    step: str
    settings: list[str]
    texts: list[TextChangeReport]


class LanguagesChange(BaseModel):
    old: list[str]
    new: list[str]


class DiffReport(BaseModel):
    """The draft against the published version (none: every step is added)."""

    service: str
    draft_revision: int
    live_version: int | None
    draft_version: int
    languages: LanguagesChange | None
    texts: list[TextChangeReport]  # the service's title, description, help
    settings: list[str]
    added: list[PlacedReport]
    removed: list[str]
    moved: list[PlacedReport]
    changed: list[StepChangeReport]
    sentences: list[str]


class StepCountReport(BaseModel):
    step: str
    conversations: int


class VersionReport(BaseModel):
    version: int
    published: bool
    conversations: int
    steps: list[StepCountReport]


class ImpactReport(BaseModel):
    """Conversations in progress on the service, by version and step."""

    service: str
    published: int | None
    draft_version: int | None
    conversations: int
    versions: list[VersionReport]
    scanned: int
    complete: bool  # False: counted over part of the sessions (the scan's bound)
    after_publishing: list[str]


def _reads(caller: Principal, service: str) -> None:
    if not (caller.may(Role.PUBLISHER) or caller.may(Role.AUTHOR, service)):
        raise HTTPException(404, f"no service {service} open to this key")


async def _checked(runtime: Runtime, service: str, source: str) -> Checked:
    lists = await studio_lists(runtime)
    return await asyncio.to_thread(checked, source, file_of(service), lists)


async def _draft(runtime: Runtime, service: str) -> tuple[int, ServiceDefinition]:
    """The draft's revision and definition: 404 without a draft, 409 when it cannot be
    read as a definition."""
    found = await runtime.drafts.get(service)
    if found is None:
        raise HTTPException(404, f"no draft of {service}")
    definition = (await _checked(runtime, service, found.source)).loaded.definition
    if definition is None:
        raise HTTPException(409, "the draft is not a definition yet: fix its errors")
    return found.revision, definition


@router.get("/templates")
async def templates(author: Author) -> list[TemplateReport]:
    """The templates a draft may start from."""
    return [TemplateReport.model_validate(t, from_attributes=True) for t in starts.templates()]


@router.post(
    "/services/{service}/draft/start",
    responses={
        404: error(404, "No such running service to copy (or the service is not open)."),
        409: error(409, "The service has a draft already."),
    },
)
async def start(
    runtime: RuntimeDep, author: Author, service: ServiceId, body: StartRequest
) -> StartReport:
    """Make the service's draft from a blank page, a copy of a running service, a
    template, or the version it runs now. The draft is version 1 of a new service, or the
    next version of one that is already published."""
    allowed(author, service)
    catalog = runtime.conversations.catalog
    live = catalog.get(service)
    version = live.version + 1 if live else 1
    if body.start == "published":
        if live is None:
            raise HTTPException(404, f"{service} is not published")
        source = await _published_text(runtime, live, version)
        prefix_used = min(starts.prefixes(live.definition), default=None)
    else:
        if body.title is None:
            raise HTTPException(422, "give the new service a title")
        source, prefix_used = await _started(runtime, body, service, body.title, version)
    try:
        draft = await runtime.drafts.save(service, source, revision=None, by=actor(author))
    except DraftConflictError as exc:
        raise HTTPException(409, f"{service} has a draft already") from exc
    detail = {"start": body.start, "template": body.template, "copy_of": body.copy_of}
    await runtime.audit.record(actor(author), Action.DRAFT_STARTED, service, detail)
    return StartReport(
        service=service,
        revision=draft.revision,
        version=version,
        reference_prefix=prefix_used,
        source=draft.source,
    )


async def _started(
    runtime: Runtime, body: StartRequest, service: str, title: str, version: int
) -> tuple[str, str | None]:
    """A new service's text, and the reference prefix it was given (None: none)."""
    drafts = await runtime.drafts.list()
    lists = await studio_lists(runtime)
    # Prefixes running services give, and those open drafts will: two drafts started
    # side by side must not both be given the same one.
    taken = {
        prefix
        for running in runtime.conversations.catalog.menu()
        if running.id != service
        for prefix in starts.prefixes(running.definition)
    } | {
        prefix
        for draft in drafts
        if draft.service != service
        for prefix in starts.draft_prefixes(draft.source, lists)
    }
    if body.reference_prefix in taken:
        raise HTTPException(422, f"reference prefix {body.reference_prefix} is another's")
    prefix = body.reference_prefix or starts.free_prefix(service, taken)
    if body.start == "blank":
        return starts.blank(service, title, version), None
    if body.start == "template":
        if body.template is None:
            raise HTTPException(422, "name the template")
        return starts.from_template(body.template, service, title, prefix, version), prefix
    return await _copy(runtime, body, service, title, prefix, version), prefix


async def _published_text(runtime: Runtime, live: CompiledService, version: int) -> str:
    """The text of the version `live` runs, numbered `version`: as published when the
    database holds it, else the folder's file (or the definition written out)."""
    recorded = await runtime.versions.get(live.id, live.version)
    if recorded is not None:
        return with_version(recorded.source, version)
    file = runtime.services_dir / f"{live.id}.yaml"
    text = file.read_text(encoding="utf-8") if file.is_file() else None
    source = starts.published_source(live.definition, text, await studio_lists(runtime))
    return with_version(source, version)


async def _copy(
    runtime: Runtime, body: StartRequest, service: str, title: str, prefix: str, version: int
) -> str:
    if body.copy_of is None:
        raise HTTPException(422, "name the service to copy: copy_of")
    if body.copy_of == service:
        raise HTTPException(422, "a copy is of another service")
    original = runtime.conversations.catalog.get(body.copy_of)
    if original is None:
        raise HTTPException(404, f"no running service {body.copy_of}")
    lists = await studio_lists(runtime)
    file = runtime.services_dir / f"{body.copy_of}.yaml"
    text = file.read_text(encoding="utf-8") if file.is_file() else None
    source = starts.published_source(original.definition, text, lists)
    try:
        return starts.copied(source, body.copy_of, service, title, prefix, version)
    except starts.StartError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/services/{service}/draft/diff", responses={404: NO_DRAFT, 409: UNREADABLE})
async def diff(runtime: RuntimeDep, caller: Reviewer, service: ServiceId) -> DiffReport:
    """What publishing the draft changes, step by step, and in sentences."""
    _reads(caller, service)
    revision, definition = await _draft(runtime, service)
    live = runtime.conversations.catalog.get(service)
    found = await asyncio.to_thread(compare, definition, live.definition if live else None)
    return _diff_report(service, revision, found)


def _diff_report(service: str, revision: int, found: DefinitionDiff) -> DiffReport:
    languages = (
        None
        if found.languages is None
        else LanguagesChange(old=list(found.languages[0]), new=list(found.languages[1]))
    )
    return DiffReport(
        service=service,
        draft_revision=revision,
        live_version=found.old_version,
        draft_version=found.new_version,
        languages=languages,
        texts=[TextChangeReport.model_validate(t, from_attributes=True) for t in found.texts],
        settings=list(found.settings),
        added=[PlacedReport.model_validate(p, from_attributes=True) for p in found.added],
        removed=list(found.removed),
        moved=[PlacedReport.model_validate(p, from_attributes=True) for p in found.moved],
        changed=[StepChangeReport.model_validate(c, from_attributes=True) for c in found.changed],
        sentences=found.sentences(),
    )


@router.get("/services/{service}/impact", responses={503: error(503, "Redis cannot be read.")})
async def impact(runtime: RuntimeDep, caller: Reviewer, service: ServiceId) -> ImpactReport:
    """The conversations in progress on each version of the service now, and what becomes
    of them when the draft is published (they finish on the version they started on)."""
    _reads(caller, service)
    catalog = runtime.conversations.catalog
    draft = await runtime.drafts.get(service)
    draft_checked = await _checked(runtime, service, draft.source) if draft else None
    draft_definition = draft_checked.loaded.definition if draft_checked else None
    draft_version = draft_definition.version if draft_definition else None
    try:
        found = await in_flight(
            runtime.conversations.store.client, service, catalog.published.get(service)
        )
    except (RedisError, OSError) as exc:
        raise HTTPException(503, "the conversations cannot be counted now") from exc
    return ImpactReport(
        service=service,
        published=found.published,
        draft_version=draft_version,
        conversations=found.conversations,
        versions=[VersionReport.model_validate(v, from_attributes=True) for v in found.versions],
        scanned=found.scanned,
        complete=found.complete,
        after_publishing=found.after_publishing(draft_version),
    )


@router.get(
    "/services/{service}/draft/diagram.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}},
        404: NO_DRAFT,
        409: UNREADABLE,
        503: error(503, "Graphviz cannot draw now."),
    },
)
async def draft_diagram(runtime: RuntimeDep, caller: Reviewer, service: ServiceId) -> Response:
    """The draft's diagram (SVG, as `gateway graph` draws it); each step's box links to
    `#step-<id>`."""
    _reads(caller, service)
    found = await runtime.drafts.get(service)
    if found is None:
        raise HTTPException(404, f"no draft of {service}")
    draft = await _checked(runtime, service, found.source)
    if draft.loaded.definition is None or not draft.publishable:
        raise HTTPException(409, "the draft has errors: fix them to draw it")
    compiled = compile_service(draft.loaded.definition)
    try:
        # `dot` in a thread: the event loop goes on serving citizens while it draws.
        picture = await asyncio.to_thread(diagram.svg, compiled)
    except GraphError as exc:
        raise HTTPException(503, str(exc)) from exc
    # Opened on its own, the picture may run nothing and load nothing.
    policy = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(
        picture, media_type="image/svg+xml", headers={"Content-Security-Policy": policy}
    )
