"""Publishing services, for the admin API (`gateway.api.admin`): what runs next to what the
folder holds (`GET /api/v1/admin/services`), and the reload that publishes the folder
(`POST /api/v1/admin/services/reload`, `gateway/catalog/reload.py`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.text import localise
from gateway.api.auth import actor, require
from gateway.api.deps import ConversationsDep, RuntimeDep
from gateway.api.services import ProblemReport
from gateway.catalog.changes import Outcome, ReloadReport, ServiceChange
from gateway.catalog.reload import (
    announce,
    log_refusals,
    merge,
    reload_services,
)
from gateway.catalog.repository import Repository, load_repository
from gateway.settings import Settings
from state.access import Principal, Role
from state.audit import Action

logger = logging.getLogger(__name__)


class OnReload(BaseModel):
    """What a reload would do with a service now."""

    outcome: Outcome
    reason: str


class ServiceState(BaseModel):
    """A service running or in the folder: what runs, what the folder holds, what the
    checker says about its file, and what a reload would do with it now."""

    id: str
    title: str  # in English
    published: int | None
    running: list[int]  # loaded: published, and older ones for pinned conversations
    file: str | None
    folder_version: int | None
    problems: list[ProblemReport]
    # None: neither published nor in the folder, a version kept for pinned conversations.
    on_reload: OnReload | None


class ServiceChangeReport(BaseModel):
    """What a reload did with one service (`ServiceChange`)."""

    model_config = ConfigDict(from_attributes=True)

    service: str
    outcome: Outcome
    version: int | None  # published after the reload (None: not published)
    previous: int | None  # published before
    file: str
    reason: str
    problems: list[ProblemReport]


class ReloadResult(BaseModel):
    """Every service's outcome; `generation` once other processes were told (null when
    Redis could not be told: they catch up at the next reload)."""

    changed: bool
    refused: list[str]  # services whose definition in the folder was not applied
    generation: int | None
    services: list[ServiceChangeReport]

    @classmethod
    def of(cls, report: ReloadReport) -> ReloadResult:
        return cls(
            changed=report.changed,
            refused=[change.service for change in report.refused],
            generation=report.generation,
            services=[ServiceChangeReport.model_validate(c) for c in report.changes],
        )


def service_states(catalog: Catalog, folder: Repository) -> list[ServiceState]:
    """Every service running or in the folder (a refusal at start or at the last reload
    shows here until the folder is fixed)."""
    in_folder = {item.service_id: item for item in folder.loaded}
    _, pending = merge(catalog, folder)  # pure: nothing is applied
    listed: list[ServiceState] = []
    for service_id in sorted(set(catalog.versions) | set(in_folder)):
        running = sorted(catalog.versions.get(service_id, {}))
        published = catalog.published.get(service_id)
        loaded = in_folder.get(service_id)
        definition = loaded.definition if loaded else None
        shown = catalog.get(service_id, published or (running[-1] if running else None))
        title = shown.definition.title if shown else definition.title if definition else ""
        listed.append(
            ServiceState(
                id=service_id,
                title=localise(title, "en") if title else "",
                published=published,
                running=running,
                file=loaded.file if loaded else None,
                folder_version=definition.version if definition else None,
                problems=[ProblemReport.model_validate(p) for p in loaded.problems]
                if loaded
                else [],
                on_reload=_on_reload(pending.outcome(service_id)),
            )
        )
    return listed


def _on_reload(change: ServiceChange | None) -> OnReload | None:
    return OnReload(outcome=change.outcome, reason=change.reason) if change else None


def publishing_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/admin/services")

    @router.get("", dependencies=[require(Role.PUBLISHER)])
    async def services(conversations: ConversationsDep) -> list[ServiceState]:
        """Every service: its published version, the versions still running (kept for the
        conversations pinned to them), the version in the folder and its problems."""
        folder = await asyncio.to_thread(load_repository, [settings.services_dir])
        return service_states(conversations.catalog, folder)

    @router.post(
        "/reload",
        responses={
            422: {
                "model": ReloadResult,
                "description": "Some definitions were refused; the rest applied.",
            }
        },
    )
    async def reload(
        conversations: ConversationsDep,
        runtime: RuntimeDep,
        publisher: Annotated[Principal, require(Role.PUBLISHER)],
        request: Request,
        response: Response,
    ) -> ReloadResult:
        """Publish `services/` as it is now, in this process and (through Redis) in every
        other one. 200 when every definition was applied or unchanged; 422 with the same
        report when some were refused (checker errors, a version number reused with other
        content, a file unreadable): what could be applied was, the refused services go on
        running their current version. `generation` is null when Redis could not be told:
        other processes then catch up at the next reload."""
        report = await reload_services(conversations, settings.services_dir, runtime.versions)
        log_refusals(report)
        try:
            # Told even when nothing changed here: another process may be behind.
            report.generation = await announce(conversations, report.digest)
        except (RedisError, OSError):
            logger.warning("services reloaded here; other processes not told", exc_info=True)
        if report.refused:
            response.status_code = 422
        published = {c.service: c.version for c in report.changes if c.version != c.previous}
        if published:  # what citizens now get changed: who made it so is on record
            address = request.client.host if request.client else None
            await runtime.audit.record(
                actor(publisher), Action.PUBLISHED, None, {"versions": published}, address
            )
        return ReloadResult.of(report)

    return router
