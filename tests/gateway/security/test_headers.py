"""The security headers (`gateway.security.headers.SecurityHeaders`) and the limits on
request bodies.

First the middleware around a tiny Starlette app, installed as the gateway installs it,
then the real application: its pages carry the headers; provider webhooks are refused
unread past their length limit (411 without a length, 413 over it); the admin API's
bodies are limited by FastAPI's own `max_body_size`, declared or streamed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.security.headers import DEFAULT_CSP, DOCS_CSP, SecurityHeaders
from tests.gateway.security.conftest import StartApp

TOO_LARGE = {"detail": "the request body is too large"}
NOSNIFF = ("x-content-type-options", "nosniff")
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class Tiny:
    """A small app recording what reached it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/channels/ussd", self.echo, methods=["POST"]),
                Route("/page", self.page),
                Route("/own-policy", self.own_policy),
                Route("/docs", self.page),
                Route("/redoc", self.page),
                Route("/channels/ussd/status", self.page),
            ],
            middleware=[Middleware(SecurityHeaders)],
        )

    async def echo(self, request: Request) -> Response:
        self.calls.append(request.url.path)
        body = await request.body()
        return JSONResponse({"received": len(body)})

    async def page(self, request: Request) -> Response:
        self.calls.append(request.url.path)
        return HTMLResponse("<p>Kuzuzangpo</p>")

    async def own_policy(self, request: Request) -> Response:
        return PlainTextResponse(
            "framed on purpose",
            headers={
                "Content-Security-Policy": "default-src 'self'",
                "X-Frame-Options": "SAMEORIGIN",
            },
        )


@pytest.fixture
def tiny() -> Iterator[tuple[Tiny, TestClient]]:
    app = Tiny()
    with TestClient(app.app) as client:
        yield app, client


def chunks(size: int, piece: int = 256) -> Iterator[bytes]:
    """A body of `size` bytes sent without Content-Length (chunked)."""
    while size > 0:
        yield b"x" * min(piece, size)
        size -= piece


# ----------------------------------------------------------------------- headers
def test_security_headers_are_added_to_a_page(tiny: tuple[Tiny, TestClient]) -> None:
    _, client = tiny
    response = client.get("/page")
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == DEFAULT_CSP
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_security_headers_are_added_to_a_404(tiny: tuple[Tiny, TestClient]) -> None:
    _, client = tiny
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == DEFAULT_CSP


def test_a_responses_own_headers_are_kept(tiny: tuple[Tiny, TestClient]) -> None:
    _, client = tiny
    response = client.get("/own-policy")
    assert response.headers.get_list("content-security-policy") == ["default-src 'self'"]
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"  # the lacking ones added


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_get_the_docs_policy(tiny: tuple[Tiny, TestClient], path: str) -> None:
    _, client = tiny
    response = client.get(path)
    assert response.headers["content-security-policy"] == DOCS_CSP
    assert "frame-ancestors 'none'" in DOCS_CSP
    assert response.headers["x-frame-options"] == "DENY"


def test_provider_callbacks_pass_untouched(tiny: tuple[Tiny, TestClient]) -> None:
    _, client = tiny
    for response in (
        client.get("/channels/ussd/status"),
        client.post("/channels/ussd", content=b"text=1"),
    ):
        assert response.status_code == 200
        for name in (*HEADERS, "content-security-policy"):
            assert name not in response.headers


# ----------------------------------------------------------------------- the real app
REAL_PAGES = ["/chat", "/verify/BR-2026-000001", "/d/" + "A" * 22, "/healthz", "/nowhere"]


@pytest.mark.parametrize("path", REAL_PAGES)
def test_the_apps_pages_carry_the_security_headers(start_app: StartApp, path: str) -> None:
    client = start_app()
    response = client.get(path)
    assert response.status_code in (200, 404), response.text
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_an_unknown_document_is_an_html_404_with_the_headers(start_app: StartApp) -> None:
    response = start_app().get("/d/" + "A" * 22)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"


def test_the_apps_pages_keep_their_own_policy(start_app: StartApp) -> None:
    """/chat allows its own script; the document pages hash their inline style."""
    client = start_app()
    chat = client.get("/chat").headers.get_list("content-security-policy")
    assert len(chat) == 1
    assert "script-src 'self'" in chat[0]
    verify = client.get("/verify/BR-2026-000001").headers.get_list("content-security-policy")
    assert len(verify) == 1
    assert "style-src 'sha256-" in verify[0]


def test_the_apps_docs_get_the_docs_policy(start_app: StartApp) -> None:
    response = start_app().get("/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == DOCS_CSP


def test_a_webhook_over_the_limit_is_413_unread(start_app: StartApp) -> None:
    response = start_app(max_body_bytes=2048).post(
        "/channels/web/messages",
        content=b"x" * 4096,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_a_webhook_without_a_length_is_411(start_app: StartApp) -> None:
    """Providers declare their bodies' length; one that does not is not read at all."""
    response = start_app(max_body_bytes=2048).post(
        "/channels/web/messages",
        content=chunks(8192),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 411


def test_a_webhook_at_the_limit_is_read(start_app: StartApp) -> None:
    body = b'{"user": "u-5f1c2a9b", "text": "' + b"x" * 2000 + b'"}'
    body += b" " * (2048 - len(body))  # exactly the limit
    response = start_app(max_body_bytes=2048).post(
        "/channels/web/messages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200  # read and answered


def test_metas_webhook_has_the_3_mb_limit(start_app: StartApp) -> None:
    """A body over GATEWAY_MAX_BODY_BYTES reaches Meta's webhook (which then checks its
    signature); the same body elsewhere is refused."""
    client = start_app(max_body_bytes=2048)
    body = b"{" + b" " * 100_000 + b"}"
    headers = {"content-type": "application/json"}
    meta = client.post("/channels/whatsapp/meta", content=body, headers=headers)
    assert meta.status_code == 403  # read, and refused for its missing signature
    assert client.post("/channels/web/messages", content=body, headers=headers).status_code == 413
    huge = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    assert client.post("/channels/whatsapp/meta", content=huge, headers=headers).status_code == 413


@pytest.mark.parametrize("streamed", [False, True])
def test_the_admin_apis_bodies_are_limited(start_app: StartApp, streamed: bool) -> None:
    """FastAPI's own limit: declared or streamed, before the route reads a byte of it."""
    token = "a7c1e9f04b2d4e6f8a0c2e4f6a8b0d2f"
    client = start_app(max_body_bytes=2048, admin_token=token)
    response = client.post(
        "/api/v1/submissions/BR-2026-000001/decision",
        content=chunks(8192) if streamed else b"x" * 8192,
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413, response.text
    assert NOSNIFF in response.headers.items()
