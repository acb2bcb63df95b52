"""The services: `GET /api/v1/services` (what citizens can use) and
`GET /api/v1/services/problems` (what `gateway check` says about the folder), public unless
`GATEWAY_PRIVATE_ENDPOINTS` names `problems`.

Private, `problems` needs the publisher role; their management is in
`gateway.api.publishing`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.text import localise
from gateway.api.auth import require
from gateway.api.deps import OptionalRuntimeDep
from gateway.api.errors import ADMIN_ERRORS
from gateway.catalog.repository import Repository, folder_digest, load_repository
from gateway.settings import Settings
from state.access import Role

logger = logging.getLogger(__name__)


class PublishedService(BaseModel):
    """A service citizens can use now, in its published version."""

    id: str
    version: int
    title: str  # in English
    languages: list[str]
    steps: int

    @classmethod
    def of(cls, service: CompiledService) -> PublishedService:
        return cls(
            id=service.id,
            version=service.version,
            title=localise(service.definition.title, "en"),
            languages=service.definition.languages,
            steps=len(service.order),
        )


class ProblemReport(BaseModel):
    """One finding of the loader or the checker (`dialogs.problems.Problem`)."""

    model_config = ConfigDict(from_attributes=True)

    file: str
    line: int
    col: int
    code: str  # E...: an error (the service cannot be published); W...: a warning
    severity: Literal["error", "warning"]
    message: str
    hint: str


class FolderProblems:
    """The services folder's problems, read again only once its files have changed."""

    def __init__(self, settings: Settings, repository: Repository) -> None:
        self.folder = settings.services_dir
        self.checked = repository  # the folder as last read
        self.reading = asyncio.Lock()  # one read at a time, however many ask at once

    async def now(self) -> list[ProblemReport]:
        async with self.reading:
            try:
                digest = await asyncio.to_thread(folder_digest, [self.folder])
                if digest != self.checked.digest:
                    self.checked = await asyncio.to_thread(load_repository, [self.folder])
            except OSError:  # files being swapped (a ConfigMap update): as last read
                logger.warning("services folder unreadable; problems as last read", exc_info=True)
        return [ProblemReport.model_validate(p) for p in self.checked.problems]


def services_router(settings: Settings, repository: Repository) -> APIRouter:
    """The routes, given the folder as read at start (`repository`): the list answers from
    it until the gateway runs, and the problems are read again from there on."""
    router = APIRouter(prefix="/api/v1/services", tags=["services"])
    folder = FolderProblems(settings, repository)
    private = "problems" in settings.private_endpoints

    @router.get("")
    def services(runtime: OptionalRuntimeDep) -> list[PublishedService]:
        """Published services with their versions and languages."""
        # The running catalog (reloads change it), else the folder as read at start.
        catalog: Catalog = runtime.conversations.catalog if runtime else repository.catalog
        return [PublishedService.of(service) for service in catalog.menu()]

    @router.get(
        "/problems",
        dependencies=[require(Role.PUBLISHER)] if private else [],
        responses=ADMIN_ERRORS if private else None,
    )
    async def problems() -> list[ProblemReport]:
        """What `gateway check` reports for the services folder as it is now."""
        return await folder.now()

    return router
