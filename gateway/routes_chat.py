"""GET /chat: the web chat page, and its script and style sheet.

Three small files from `gateway/static`, read once, served with their content types, an
ETag (a phone on a slow link revalidates instead of downloading again) and a content
security policy that allows nothing from other origins: the page talks only to
`POST /channels/web/messages` on the same server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib.resources import files

from fastapi import APIRouter, Request, Response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

ASSETS = {
    "chat.html": "text/html; charset=utf-8",
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
}


def chat_router() -> APIRouter:
    router = APIRouter(tags=["web chat"])
    router.add_api_route(
        "/chat",
        _asset("chat.html"),
        methods=["GET"],
        summary="Web chat page",
        response_class=Response,
        responses={200: {"content": {"text/html": {}}}},
    )
    for name in ("chat.js", "chat.css"):
        router.add_api_route(
            f"/chat/{name}", _asset(name), methods=["GET"], include_in_schema=False
        )
    return router


def _asset(name: str) -> Callable[[Request], Response]:
    body = (files("gateway") / "static" / name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer",
    }

    def endpoint(request: Request) -> Response:
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=ASSETS[name], headers=headers)

    endpoint.__name__ = "chat_" + name.replace(".", "_")
    return endpoint
