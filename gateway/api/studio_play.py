"""The studio as the author types and tries (`/api/v1/studio/services/{id}/draft/...`):
the checker on unsaved text, what a citizen sees at each step on every medium, the stored
draft played as a citizen would, and a played conversation kept as a conversation test.
Role: author, on the services the key is limited to (as `gateway.api.studio`).

The logic is in `gateway.studio.preview` and `gateway.studio.play`; this module only
translates HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, compile_service
from dialogs.conversation_tests import Case, LookupMock, SubmissionMock
from dialogs.media import Medium
from gateway.api.auth import actor
from gateway.api.deps import RuntimeDep
from gateway.api.errors import error
from gateway.api.fields import Text
from gateway.api.studio import (
    BODY,
    CONFLICT,
    NOT_FOUND,
    Author,
    DiagnosticReport,
    DraftReport,
    IfMatch,
    ServiceId,
    allowed,
    conflict,
    draft_checked,
    file_of,
    report_of,
    revision_of,
    saved_by,
)
from gateway.runtime import Runtime
from gateway.studio.drafts import Checked, DraftFormatError, as_yaml, checked
from gateway.studio.lists import studio_lists
from gateway.studio.play import (
    MAX_INPUT_CHARS,
    MAX_INPUTS,
    PlayError,
    as_case,
    mock_case,
    play,
    with_case,
    with_mocks,
)
from gateway.studio.preview import preview
from state.studio import Draft, DraftConflictError

router = APIRouter(prefix="/studio/services", tags=["studio"])
UNREADABLE = error(422, "The definition cannot be read: see `diagnostics`.")
NOT_PLAYABLE = error(409, "The draft cannot be played: see `diagnostics`.")
NEITHER = error(415, "Neither YAML nor JSON.")
Input = Annotated[Text, Field(max_length=MAX_INPUT_CHARS)]


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CheckReport(_Model):
    diagnostics: list[DiagnosticReport]
    publishable: bool


class SizeReport(_Model):
    characters: int
    limit: int
    fits: bool


class WorstReport(_Model):
    screen: str
    size: SizeReport


class SmsReport(_Model):
    parts: int
    encoding: str
    limit: int
    fits: bool


class WhatsAppReport(_Model):
    kind: Literal["buttons", "list", "text"]
    titles: list[str]


class MediumReport(_Model):
    medium: Medium
    screen: str
    error_screen: str | None
    size: SizeReport | None  # USSD: the screen against its limit
    worst: WorstReport | None  # USSD: the longest answers and error, as the checker sizes it
    sms: SmsReport | None
    whatsapp: WhatsAppReport | None
    buttons: list[str]  # Telegram, web chat


class StepReport(_Model):
    step: str
    error: str | None
    media: list[MediumReport]


class PreviewReport(_Model):
    service: str
    language: str
    languages: list[str]
    steps: list[StepReport]


class PlayMocks(BaseModel):
    """What lookups and submissions answer instead of the draft's first test case's."""

    model_config = ConfigDict(extra="forbid")
    lookups: dict[str, LookupMock] | None = None
    submission: SubmissionMock | None = None


class PlayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    medium: Medium
    language: str | None = Field(default=None, description="Default: the service's first.")
    inputs: list[Input] = Field(default_factory=list, max_length=MAX_INPUTS)
    mocks: PlayMocks | None = None


class SaveRequest(PlayRequest):
    name: Text = Field(min_length=1, max_length=120, description="The test case's name.")


class OptionReport(_Model):
    key: str
    label: str
    nav: bool


class TurnReport(_Model):
    sent: str | None
    screen: str
    options: list[OptionReport]
    ended: bool
    at: str


class PlayReport(_Model):
    service: str
    medium: Medium
    language: str
    turns: list[TurnReport]
    at: str
    ended: bool
    problems: list[str]


async def _text(request: Request) -> str:
    try:
        return as_yaml(await request.body(), request.headers.get("content-type", ""))
    except DraftFormatError as exc:
        raise HTTPException(415, str(exc)) from exc


def _diagnostics(found: Checked) -> list[DiagnosticReport]:
    return [DiagnosticReport.model_validate(d, from_attributes=True) for d in found.diagnostics]


def _compiled(found: Checked, status: int) -> CompiledService:
    """The draft compiled, or `status` with the diagnostics that say why it cannot be."""
    definition = found.loaded.definition
    try:
        if definition is not None:
            return compile_service(definition)
    except (ValueError, TypeError, LookupError):
        pass  # a broken definition: the checker's diagnostics say where
    diagnostics = [d.model_dump(mode="json") for d in _diagnostics(found)]
    raise HTTPException(status, {"message": "the draft has errors", "diagnostics": diagnostics})


def _beside(runtime: Runtime, compiled: CompiledService) -> Catalog:
    """The draft among the running services, as its tests run (a test may use the menu)."""
    others = runtime.conversations.catalog.menu()
    return Catalog.of([s for s in others if s.id != compiled.id] + [compiled])


def _language(compiled: CompiledService, language: str | None) -> str:
    offered = compiled.definition.languages
    if language is None:
        return offered[0]
    if language not in offered:
        raise HTTPException(422, f"{compiled.id} is offered in {', '.join(offered)}")
    return language


async def _stored(runtime: Runtime, service: str) -> Draft:
    found = await runtime.drafts.get(service)
    if found is None:
        raise HTTPException(404, f"no draft of {service}")
    return found


@router.post("/{service}/draft/check", openapi_extra=BODY, responses={415: NEITHER})
async def check(
    request: Request, runtime: RuntimeDep, author: Author, service: ServiceId
) -> CheckReport:
    """The checker's diagnostics on unsaved text (YAML or JSON), as the author types."""
    allowed(author, service)
    lists = await studio_lists(runtime)
    found = await asyncio.to_thread(checked, await _text(request), file_of(service), lists)
    return CheckReport(diagnostics=_diagnostics(found), publishable=found.publishable)


@router.post(
    "/{service}/draft/preview", openapi_extra=BODY, responses={415: NEITHER, 422: UNREADABLE}
)
async def preview_draft(
    request: Request,
    runtime: RuntimeDep,
    author: Author,
    service: ServiceId,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> PreviewReport:
    """What a citizen sees at each step of unsaved text, on every medium, in `lang`
    (default: the service's first language); effects are answered by the stored draft's
    first test case."""
    allowed(author, service)
    lists = await studio_lists(runtime)
    text = await _text(request)
    compiled = _compiled(await asyncio.to_thread(checked, text, file_of(service), lists), 422)
    stored = await runtime.drafts.get(service)
    case = mock_case(stored.tests if stored else None, service)
    beside, language = _beside(runtime, compiled), _language(compiled, lang)
    shown = await asyncio.to_thread(preview, beside, compiled, language, case)
    return PreviewReport.model_validate(shown)


async def _played(
    runtime: Runtime, draft: Draft, asked: PlayRequest, name: str = "play"
) -> tuple[Case, PlayReport]:
    """The draft played as asked: the transcript, and the conversation as a test case."""
    compiled = _compiled(await draft_checked(runtime, draft), 409)
    language = _language(compiled, asked.language)
    given = asked.mocks or PlayMocks()
    case = with_mocks(mock_case(draft.tests, draft.service), given.lookups, given.submission)
    try:
        played = await asyncio.to_thread(
            play,
            _beside(runtime, compiled),
            compiled.id,
            asked.medium,
            language,
            asked.inputs,
            case,
        )
    except PlayError as exc:
        raise HTTPException(422, str(exc)) from exc
    report = PlayReport(
        service=compiled.id,
        medium=played.medium,
        language=played.language,
        turns=[TurnReport.model_validate(turn) for turn in played.turns],
        at=played.at,
        ended=played.ended,
        problems=list(played.problems),
    )
    return as_case(name, played, case), report


@router.post("/{service}/draft/play", responses={404: NOT_FOUND, 409: NOT_PLAYABLE})
async def play_draft(
    runtime: RuntimeDep, author: Author, service: ServiceId, asked: PlayRequest
) -> PlayReport:
    """The stored draft played from the dial with every input in turn, lookups and
    submissions answered by `mocks`, else by the draft's first test case's."""
    allowed(author, service)
    _, report = await _played(runtime, await _stored(runtime, service), asked)
    return report


@router.post(
    "/{service}/draft/play/save",
    responses={404: NOT_FOUND, 409: CONFLICT, 428: error(428, "Name the draft's revision.")},
)
async def save_play(
    runtime: RuntimeDep,
    author: Author,
    service: ServiceId,
    asked: SaveRequest,
    if_match: IfMatch = None,
) -> DraftReport:
    """The played conversation added to the draft's tests as a case named `name`."""
    allowed(author, service)
    revision = revision_of(if_match)
    if revision is None:
        raise HTTPException(428, 'name the draft\'s revision: If-Match: "<revision>"')
    draft = await _stored(runtime, service)
    case, _ = await _played(runtime, draft, asked, asked.name)
    try:
        tests = with_case(draft.tests, service, case)
        saved = await runtime.drafts.save_tests(service, tests, revision=revision, by=actor(author))
    except PlayError as exc:
        raise HTTPException(422, str(exc)) from exc
    except DraftConflictError as exc:
        raise await conflict(runtime, exc) from exc
    await saved_by(runtime, author, saved, "tests")
    return await report_of(runtime, saved)
