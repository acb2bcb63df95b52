"""The FastAPI application: its middleware and its routes, one router per resource
(`gateway.api`). What it connects on start and releases on stop is `gateway.lifespan`.

`uvicorn gateway.app:create_app --factory` (or `gateway serve`) runs it.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.api.admin import admin_router
from gateway.api.analytics import analytics_router
from gateway.api.auth import document_roles, require
from gateway.api.channels import add_channel_routes
from gateway.api.chat import chat_router
from gateway.api.docs import OPENAPI_URL, private_docs_router
from gateway.api.documents import documents_router
from gateway.api.errors import invalid_request
from gateway.api.ops import count_unhandled_exceptions, ops_router
from gateway.api.services import services_router
from gateway.catalog.repository import load_repository
from gateway.console.router import add_console
from gateway.lifespan import lifespan_for
from gateway.ops.logs import configure_logging
from gateway.providers import WEBHOOKS
from gateway.providers.common import Access
from gateway.providers.meta.whatsapp import verification_router
from gateway.security.headers import SecurityHeaders
from gateway.settings import Settings
from state.access import Role

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    # Here, not at import: uvicorn configures its own logging before calling the factory.
    configure_logging()  # JSON lines on stderr, phone and ID numbers masked
    settings = settings or Settings()
    repository = load_repository([settings.services_dir])
    announce_access(settings)
    docs_private = "docs" in settings.private_endpoints
    app = FastAPI(
        title="Government services gateway",
        version="0.1.0",
        lifespan=lifespan_for(settings, repository),
        # Built from the request's Host header, a trailing-slash redirect could send a
        # citizen anywhere: a wrong path is a 404.
        redirect_slashes=False,
        docs_url=None if docs_private else "/docs",
        redoc_url=None if docs_private else "/redoc",
        openapi_url=None if docs_private else OPENAPI_URL,
    )
    app.state.settings = settings  # read per request by `gateway.api.auth`
    app.add_exception_handler(RequestValidationError, invalid_request)
    document_roles(app)  # each operation's roles in /openapi.json
    app.add_middleware(SecurityHeaders)
    if settings.trusted_proxies:
        # X-Forwarded-For names the client only when a trusted proxy sent it (the
        # rightmost address not a proxy's); otherwise the peer is the client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    add_channel_routes(app, settings)  # first: the routes every hop is matched against
    app.include_router(verification_router(settings))
    app.include_router(admin_router(settings))
    app.include_router(analytics_router(settings))
    app.include_router(chat_router())
    add_console(app, settings)
    app.include_router(documents_router(settings))
    # Rasa is reported but optional: when it is down the embedded classifier answers, so
    # it must not take every API pod out of service.
    private_metrics = "metrics" in settings.private_endpoints
    app.include_router(
        ops_router(
            optional=("rasa",),
            metrics_dependencies=[require(Role.ADMINISTRATOR)] if private_metrics else [],
        )
    )
    app.include_router(services_router(settings, repository))
    if docs_private:
        app.include_router(private_docs_router(settings))
    count_unhandled_exceptions(app)  # 500s by route template
    return app


def announce_access(settings: Settings) -> None:
    """One line per channel adapter: authenticated, public, open (development) or closed;
    and, loudly, every endpoint development mode leaves open."""
    for channel in WEBHOOKS.values():
        access = channel.access(settings)
        log = logger.warning if access in (Access.OPEN, Access.CLOSED) else logger.info
        log("channel %s (POST /channels%s): %s", channel.name, channel.path, access.value)
    if settings.development:
        opened = [
            f"/channels{c.path}" for c in WEBHOOKS.values() if c.access(settings) == Access.OPEN
        ]
        logger.warning(
            "GATEWAY_DEVELOPMENT is on: never expose this gateway. Open without a secret: "
            "%s; verification codes are written in this log when no SMS provider is set; "
            "the demo census answers census lookups",
            ", ".join(opened) or "nothing",
        )
