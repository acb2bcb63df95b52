"""GET /chat: the web chat page, and its script and style sheet.

Three small files from `gateway/static` (see `gateway.api.static`); the page talks
only to `POST /channels/web/messages` on the same server.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.api.static import static_asset


def chat_router() -> APIRouter:
    router = APIRouter(tags=["web chat"])
    router.add_api_route(
        "/chat",
        static_asset("chat.html"),
        methods=["GET"],
        summary="Web chat page",
        response_class=Response,
        responses={200: {"content": {"text/html": {}}}},
    )
    for name in ("chat.js", "chat.css"):
        router.add_api_route(
            f"/chat/{name}", static_asset(name), methods=["GET"], include_in_schema=False
        )
    return router
