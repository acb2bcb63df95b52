"""Publishing in the studio's API, for publishers: a draft sent for review is published
(or sent back to its authors with a comment), an earlier version is published again
(roll back), and every version of a service is listed. Each action goes to the audit log.

A publisher other than the draft's sender publishes it, unless the deployment allows
one-person publishing (`GATEWAY_STUDIO_SOLO_PUBLISH`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from gateway.api.auth import actor, require, settings_of
from gateway.api.deps import RuntimeDep
from gateway.api.errors import error
from gateway.api.fields import Text
from gateway.api.studio import NOT_FOUND, DraftReport, ServiceId, allowed, report_of
from gateway.studio.publishing import Publication, PublishRefusedError, publish_draft, roll_back
from state.access import Principal, Role
from state.audit import Action
from state.published import Origin
from state.studio import DraftConflictError

router = APIRouter(prefix="/studio/services", tags=["studio"])
Publisher = Annotated[Principal, require(Role.PUBLISHER)]
MAX_COMMENT = 2000
REFUSED = error(409, "Not publishable now: not sent for review, sent by you, or changed.")


class Comment(BaseModel):
    comment: Text | None = Field(default=None, max_length=MAX_COMMENT)


class SendBack(BaseModel):
    comment: Text = Field(min_length=1, max_length=MAX_COMMENT)  # what the authors must change


class RollBack(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1)  # PostgreSQL's integer
    comment: Text | None = Field(default=None, max_length=MAX_COMMENT)


class PublishedReport(BaseModel):
    """A version now published: live for new conversations in this process at once, in
    the others within seconds (`generation` null: they could not be told; they catch up
    at the next reload)."""

    service: str
    version: int
    previous: int | None
    origin: Origin
    generation: int | None


class VersionReport(BaseModel):
    version: int
    origin: Origin  # folder, studio, import or rollback
    published_at: datetime
    published_by: str
    comment: str | None
    live: bool  # what new conversations get


def _clean(comment: str | None) -> str | None:
    """A comment as kept: control characters other than line breaks dropped."""
    if comment is None:
        return None
    kept = "".join(c for c in comment if c in "\n\t" or ord(c) >= 32).strip()
    return kept or None


def _published(found: Publication) -> PublishedReport:
    return PublishedReport(
        service=found.version.service,
        version=found.version.version,
        previous=found.previous,
        origin=found.version.origin,
        generation=found.generation,
    )


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/{service}/draft/publish", responses={404: NOT_FOUND, 409: REFUSED})
async def publish(
    request: Request, runtime: RuntimeDep, publisher: Publisher, service: ServiceId, body: Comment
) -> PublishedReport:
    """Publish the draft sent for review as the service's next version."""
    solo = settings_of(request).studio_solo_publish
    try:
        found = await publish_draft(
            runtime, service, by=actor(publisher), comment=_clean(body.comment), solo=solo
        )
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except PublishRefusedError as exc:
        raise HTTPException(409, str(exc)) from exc
    detail = {"versions": {service: found.version.version}, "origin": "studio"}
    address = _address(request)
    await runtime.audit.record(actor(publisher), Action.PUBLISHED, service, detail, address)
    return _published(found)


@router.post("/{service}/draft/return", responses={404: NOT_FOUND, 409: REFUSED})
async def send_back(
    request: Request, runtime: RuntimeDep, publisher: Publisher, service: ServiceId, body: SendBack
) -> DraftReport:
    """Send the draft back to its authors, saying what to change."""
    draft = await runtime.drafts.get(service)
    if draft is None:
        raise HTTPException(404, f"no draft of {service}")
    comment = _clean(body.comment)
    if draft.state != "submitted" or comment is None:
        raise HTTPException(409, "only a draft sent for review is sent back, with a comment")
    try:
        sent = await runtime.drafts.send_back(
            service, revision=draft.revision, by=actor(publisher), comment=comment
        )
    except DraftConflictError as exc:
        raise HTTPException(409, "the draft changed meanwhile") from exc
    await runtime.audit.record(
        actor(publisher), Action.DRAFT_RETURNED, service, {"revision": sent.revision}
    )
    return await report_of(runtime, sent)


@router.post(
    "/{service}/rollback",
    responses={404: error(404, "No such version."), 409: REFUSED},
)
async def rollback(
    request: Request, runtime: RuntimeDep, publisher: Publisher, service: ServiceId, body: RollBack
) -> PublishedReport:
    """Publish an earlier version again, as the service's next number."""
    try:
        found = await roll_back(
            runtime, service, body.version, by=actor(publisher), comment=_clean(body.comment)
        )
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except PublishRefusedError as exc:
        raise HTTPException(409, str(exc)) from exc
    detail = {"versions": {service: found.version.version}, "from": body.version}
    await runtime.audit.record(
        actor(publisher), Action.ROLLED_BACK, service, detail, _address(request)
    )
    return _published(found)


@router.get("/{service}/versions")
async def versions(
    runtime: RuntimeDep,
    caller: Annotated[Principal, require(Role.PUBLISHER, Role.AUTHOR)],
    service: ServiceId,
) -> list[VersionReport]:
    """Every published version of the service, newest first."""
    if not caller.may(Role.PUBLISHER):
        allowed(caller, service)
    live = runtime.conversations.catalog.published.get(service)
    return [
        VersionReport(
            version=v.version,
            origin=v.origin,
            published_at=v.published_at,
            published_by=v.published_by,
            comment=v.comment,
            live=v.version == live,
        )
        for v in await runtime.versions.history(service)
    ]
