"""The admin API (bearer `GATEWAY_ADMIN_TOKEN`, `gateway.security.admin`): the message log,
the back office's submissions and decisions, the notifications that could not be
delivered, and the services with their versions and reload (`gateway/catalog/reload.py`).

Without a configured token the admin API is closed (403), never open.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.text import localise
from gateway.catalog.reload import ServiceChange, announce, log_refusals, merge, reload_services
from gateway.catalog.repository import Repository, load_repository
from gateway.conversations.service import Conversations
from gateway.runtime import Runtime
from gateway.security.admin import admin_auth
from gateway.settings import Settings
from gateway.submissions.service import Submissions, submission_data
from state.submissions import NotificationRow, SubmissionRow, SubmissionStore

logger = logging.getLogger(__name__)

# Ids are 32-bit integers in the database (PostgreSQL `integer`): a larger one is no id,
# and would fail in the driver rather than be answered 422.
MAX_ID = 2**31 - 1
MAX_OFFSET = 10**9


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


def services_data(catalog: Catalog, folder: Repository) -> list[dict[str, Any]]:
    """Every service running or in the folder: what runs, what the folder holds, what
    the checker says about its file, and what a reload would do with it now (a refusal
    at start or at the last reload shows here until the folder is fixed)."""
    in_folder = {item.service_id: item for item in folder.loaded}
    _, pending = merge(catalog, folder)  # pure: nothing is applied
    listed: list[dict[str, Any]] = []
    for service_id in sorted(set(catalog.versions) | set(in_folder)):
        running = sorted(catalog.versions.get(service_id, {}))
        published = catalog.published.get(service_id)
        loaded = in_folder.get(service_id)
        definition = loaded.definition if loaded else None
        shown = catalog.get(service_id, published or (running[-1] if running else None))
        title = shown.definition.title if shown else definition.title if definition else ""
        listed.append(
            {
                "id": service_id,
                "title": localise(title, "en") if title else "",
                "published": published,
                "running": running,  # loaded: published, and older ones for pinned sessions
                "file": loaded.file if loaded else None,
                "folder_version": definition.version if definition else None,
                "problems": [p.data() for p in loaded.problems] if loaded else [],
                "on_reload": _on_reload(pending.outcome(service_id)),
            }
        )
    return listed


def _on_reload(change: ServiceChange | None) -> dict[str, str] | None:
    if change is None:
        return None  # neither published nor in the folder: a version kept for pinned ones
    return {"outcome": change.outcome, "reason": change.reason}


def admin_router(settings: Settings) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1",
        tags=["admin"],
        dependencies=admin_auth(settings),
        max_body_size=settings.max_body_bytes,  # 413, whether declared or streamed
    )

    @router.get("/messages")
    async def messages(
        request: Request,
        address: Annotated[str, Query(min_length=3, max_length=80)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Messages in and out for one address (phone number or channel user id)."""
        rows = await Runtime.of(request.app).messages.for_address(address, limit)
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
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[dict[str, Any]]:
        """Submissions, newest first, filtered by service, status or citizen."""
        store: SubmissionStore = Runtime.of(request.app).submission_store
        rows = await store.listing(
            service=service, status=status, citizen=citizen, limit=limit, offset=offset
        )
        return [submission_with_token(row) for row in rows]

    @router.get("/submissions/{reference}")
    async def submission(request: Request, reference: str) -> dict[str, Any]:
        """One submission with its current document token."""
        store: SubmissionStore = Runtime.of(request.app).submission_store
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
        service: Submissions = Runtime.of(request.app).submissions
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
        store: SubmissionStore = Runtime.of(request.app).submission_store
        if await store.by_reference(reference) is None:
            raise HTTPException(404, f"no submission {reference}")
        return {"reference": reference, "revoked": await store.revoke(reference)}

    @router.get("/notifications")
    async def notifications(
        request: Request,
        status: Literal["pending", "held", "sent", "failed"] | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Messages and webhook calls owed by submissions, e.g. `?status=failed`."""
        store: SubmissionStore = Runtime.of(request.app).submission_store
        return [
            notification_data(row) for row in await store.notifications(status=status, limit=limit)
        ]

    @router.post("/notifications/{notification_id}/retry")
    async def retry(
        request: Request, notification_id: Annotated[int, Path(ge=1, le=MAX_ID)]
    ) -> dict[str, Any]:
        """Send a failed notification again (e.g. after the back office is fixed)."""
        store: SubmissionStore = Runtime.of(request.app).submission_store
        row = await store.reopen(notification_id)
        if row is None:
            raise HTTPException(404, f"no notification {notification_id}")
        if row.status == "pending":
            await Runtime.of(request.app).outbox.notify([row.id], attempt=row.attempts)
        return notification_data(row)

    @router.get("/admin/services")
    async def services(request: Request) -> list[dict[str, Any]]:
        """Every service: its published version, the versions still running (kept for the
        conversations pinned to them), the version in the folder and its problems."""
        conversations: Conversations = Runtime.of(request.app).conversations
        folder = await asyncio.to_thread(load_repository, [settings.services_dir])
        return services_data(conversations.catalog, folder)

    @router.post(
        "/admin/services/reload",
        responses={422: {"description": "Some definitions were refused; the rest applied."}},
    )
    async def reload(request: Request) -> JSONResponse:
        """Publish `services/` as it is now, in this process and (through Redis) in every
        other one. 200 when every definition was applied or unchanged; 422 with the same
        report when some were refused (checker errors, a version number reused with other
        content, a file unreadable): what could be applied was, the refused services go on
        running their current version. `generation` is null when Redis could not be told:
        other processes then catch up at the next reload."""
        conversations: Conversations = Runtime.of(request.app).conversations
        report = await reload_services(conversations, settings.services_dir)
        log_refusals(report)
        try:
            # Told even when nothing changed here: another process may be behind.
            report.generation = await announce(conversations, report.digest)
        except (RedisError, OSError):
            logger.warning("services reloaded here; other processes not told", exc_info=True)
        return JSONResponse(report.data(), status_code=422 if report.refused else 200)

    return router
