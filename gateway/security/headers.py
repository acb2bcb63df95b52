"""The headers that keep browsers safe, on every page the gateway sends (error pages
included): a content security policy allowing nothing from elsewhere and no framing,
no MIME sniffing, no referrer.

A pure ASGI middleware rather than Starlette's `BaseHTTPMiddleware`: it sees each response
start once and never buffers a body. Provider callbacks (`/channels/...`) are machines'
traffic, not pages: they pass untouched, and the USSD hop pays one string comparison.
Bodies are limited by FastAPI itself (`FastAPI(max_body_size=...)`: 413).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# Nothing from elsewhere, no framing, no plugins; a page that needs more sets its own.
DEFAULT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc load their scripts from jsDelivr and start them inline.
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Adds the security headers to responses that lack them (a page's own content
    security policy stays), except under `machines`."""

    def __init__(self, app: App, *, machines: str = "/channels/") -> None:
        self.app = app
        self.machines = machines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.machines):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _secured(send, scope["path"]))


def _secured(send: Send, path: str) -> Send:
    """`send` adding the security headers a response lacks."""
    csp = DOCS_CSP if path in ("/docs", "/redoc") else DEFAULT_CSP

    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
            if b"content-security-policy" not in present:
                headers.append((b"content-security-policy", csp.encode()))
            message["headers"] = headers
        await send(message)

    return secured
