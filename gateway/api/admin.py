"""The API for civil servants' machines and the bootstrap key (`gateway.api.auth`), one
module per resource, each stating the role it needs:

- the message log (`messages`), the notifications that could not be delivered
  (`notifications`) and the audit log (`audit`): administrator;
- the applications, listed, read, decided and revoked (`submissions`): officer, on the
  services the key is limited to;
- the services with their versions and reload (`publishing`): publisher;
- the studio's drafts, checked, tested and sent for review (`studio`), previewed and
  played (`studio_play`), started, compared and drawn (`studio_review`), and the shared
  lists (`studio_lists`): author;
- the studio's publications and roll-backs (`studio_publish`): publisher.

With neither a bootstrap key nor an API key the API is closed (403), never open.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api import (
    audit,
    messages,
    notifications,
    studio,
    studio_lists,
    studio_play,
    studio_publish,
    studio_review,
    submissions,
)
from gateway.api.errors import ADMIN_ERRORS
from gateway.api.publishing import publishing_router
from gateway.settings import Settings


def admin_router(settings: Settings) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1",
        tags=["admin"],
        responses=ADMIN_ERRORS,
        max_body_size=settings.max_body_bytes,  # 413, whether declared or streamed
    )
    router.include_router(messages.router)
    router.include_router(submissions.router)
    router.include_router(notifications.router)
    router.include_router(audit.router)
    router.include_router(studio.router)
    router.include_router(studio_play.router)
    router.include_router(studio_publish.router)
    router.include_router(studio_lists.router)
    router.include_router(studio_review.router)
    router.include_router(publishing_router(settings))
    return router
