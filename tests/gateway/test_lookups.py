"""Lookup effects performed over HTTP: against a fake registry and a slow real socket."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2 as httpx
import pytest

from dialogs.messages import LookupRequest
from gateway.lookups import perform_lookup


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


def registry(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler)


async def test_json_reply_is_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"name": "Pema Wangmo"})

    monkeypatch.setenv("CENSUS_TOKEN", "s3cret")
    result = await perform_lookup(
        request(
            "https://census.example/c/115",
            method="POST",
            body={"cid": "115"},
            query={"full": "1"},
            headers={"Authorization": "env:CENSUS_TOKEN", "X-Missing": "env:NOT_SET"},
        ),
        registry(httpx.MockTransport(answer)),
    )
    assert result.ok
    assert result.data == {"name": "Pema Wangmo"}
    sent = seen[0]
    assert sent.method == "POST"
    assert str(sent.url) == "https://census.example/c/115?full=1"
    assert json.loads(sent.content) == {"cid": "115"}
    assert sent.headers["Authorization"] == "s3cret"
    assert "X-Missing" not in sent.headers


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(404, json={"detail": "no such citizen"}), "HTTP 404"),
        (httpx.Response(502, text="bad gateway"), "HTTP 502"),
        (httpx.Response(200, text="<html>not json</html>"), "JSONDecodeError"),
        (httpx.Response(200, content=b"[" + b"1," * 40_000 + b"1]"), "reply too large"),
        (httpx.Response(200, content=b"[" * 30_000 + b"]" * 30_000), "RecursionError"),
    ],
)
async def test_registry_failures_are_failed_lookups(response: httpx.Response, error: str) -> None:
    result = await perform_lookup(
        request("https://r.example/x"), registry(httpx.MockTransport(lambda _: response))
    )
    assert not result.ok
    assert result.error == error


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
    threading.Thread(target=server.serve_forever, daemon=True).start()
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
