"""The admin API (bearer `GATEWAY_ADMIN_TOKEN`, `gateway.api.auth`), one module per
resource: the message log (`messages`), the back office's submissions and decisions
(`submissions`), the notifications that could not be delivered (`notifications`), and the
services with their versions and reload (`publishing`).

Without a configured token the admin API is closed (403), never open.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api import messages, notifications, submissions
from gateway.api.auth import admin_auth
from gateway.api.errors import ADMIN_ERRORS
from gateway.api.publishing import publishing_router
from gateway.settings import Settings


def admin_router(settings: Settings) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1",
        tags=["admin"],
        dependencies=admin_auth(settings),
        responses=ADMIN_ERRORS,
        max_body_size=settings.max_body_bytes,  # 413, whether declared or streamed
    )
    router.include_router(messages.router)
    router.include_router(submissions.router)
    router.include_router(notifications.router)
    router.include_router(publishing_router(settings))
    return router
