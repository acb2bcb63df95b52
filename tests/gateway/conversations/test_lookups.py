"""Lookup effects performed over HTTP: against a fake registry and a slow real socket."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dialogs.messages import LookupRequest
from gateway.conversations.lookups import perform_lookup, registry_session

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request(url: str, **changes: object) -> LookupRequest:
    base: dict[str, object] = {
        "step": "citizen",
        "method": "GET",
        "url": url,
        "query": {},
        "body": None,
        "headers": {},
        "timeout": 1.0,
    }
    return LookupRequest(**{**base, **changes})  # type: ignore[arg-type]


@asynccontextmanager
async def registry(handler: Handler) -> AsyncIterator[TestServer]:
    """A real HTTP registry on loopback answering every path with `handler`."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def test_json_reply_is_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str, str, dict[str, object], dict[str, str]]] = []

    async def answer(req: web.Request) -> web.Response:
        seen.append((req.method, req.path, req.query_string, await req.json(), dict(req.headers)))
        return web.json_response({"name": "Pema Wangmo"})

    monkeypatch.setenv("CENSUS_TOKEN", "s3cret")
    async with registry(answer) as server:
        result = await perform_lookup(
            request(
                str(server.make_url("/c/115")),
                method="POST",
                body={"cid": "115"},
                query={"full": "1"},
                headers={"Authorization": "env:CENSUS_TOKEN", "X-Missing": "env:NOT_SET"},
            )
        )
    assert result.ok
    assert result.data == {"name": "Pema Wangmo"}
    ((method, path, query, body, headers),) = seen
    assert (method, path, query, body) == ("POST", "/c/115", "full=1", {"cid": "115"})
    assert headers["Authorization"] == "s3cret"
    assert "X-Missing" not in headers


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, b'{"detail": "no such citizen"}', "HTTP 404"),
        (502, b"bad gateway", "HTTP 502"),
        (200, b"<html>not json</html>", "JSONDecodeError"),
        (200, b"[" + b"1," * 40_000 + b"1]", "reply too large"),
        (200, b"[" * 30_000 + b"]" * 30_000, "RecursionError"),
    ],
)
async def test_registry_failures_are_failed_lookups(status: int, body: bytes, error: str) -> None:
    async def answer(req: web.Request) -> web.Response:
        return web.Response(status=status, body=body)

    async with registry(answer) as server:
        result = await perform_lookup(request(str(server.make_url("/x"))))
    assert not result.ok
    assert result.error == error


async def test_an_unreachable_registry_is_a_failed_lookup() -> None:
    async def answer(req: web.Request) -> web.Response:
        return web.Response()

    async with registry(answer) as server:
        url = str(server.make_url("/x"))
    result = await perform_lookup(request(url))  # the server is gone: connection refused
    assert not result.ok
    assert result.error == "ClientConnectorError"


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(1.5)
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:
            pass  # the client gave up first, which is what the test wants

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow"
    server.shutdown()
    server.server_close()


async def test_a_slow_registry_times_out_within_the_step_timeout(slow_registry: str) -> None:
    started = time.monotonic()
    result = await perform_lookup(request(slow_registry, timeout=0.2))
    assert not result.ok
    assert result.error == "timeout"
    assert time.monotonic() - started < 1.4


class _Trickle(BaseHTTPRequestHandler):
    """Answers at once, then sends its body a byte every 0.3 s: each read is quick."""

    def do_GET(self) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


async def test_the_timeout_bounds_the_whole_call_not_each_read() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        started = time.monotonic()
        result = await perform_lookup(
            request(f"http://127.0.0.1:{server.server_address[1]}/", timeout=1.0)
        )
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert not result.ok
    assert result.error == "timeout"
    assert elapsed < 2.0  # the body would take 12 s to arrive


async def test_a_cookie_set_on_one_citizens_lookup_never_goes_with_the_next() -> None:
    # The session is shared by every citizen's lookups: a registry's session cookie from
    # one citizen's call must not be sent with another's (a name, not an address: cookies
    # of IP addresses are refused anyway).
    sent: list[str | None] = []

    async def answer(req: web.Request) -> web.Response:
        sent.append(req.headers.get("Cookie"))
        reply = web.json_response({"cid": req.path.rsplit("/", 1)[-1]})
        reply.set_cookie("sid", "for-the-first-citizen")
        return reply

    async with registry(answer) as server:
        session = registry_session()
        try:
            for cid in ("11500000001", "11500000002"):
                url = f"http://localhost:{server.port}/census/{cid}"
                result = await perform_lookup(request(url), session)
                assert result.data == {"cid": cid}
        finally:
            await session.close()
    assert sent == [None, None]
