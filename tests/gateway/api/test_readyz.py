"""GET /readyz on the real app against a redis-server of the test's own (stopped, frozen
and started again), a real database and a Rasa that answers or does not."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.gateway.ops.test_metrics import grew, ops_gateway, scrape
from tests.redis_databases import RedisDatabase
from tests.state import RedisServer, free_port

pytestmark = pytest.mark.integration  # a redis-server of each test's own, or the shared one

TIMEOUT = 0.3  # each check's limit in these tests
QUICK = TIMEOUT + 0.7  # a readiness answer never takes much longer than one check's limit
UNAVAILABLE = "The service is temporarily unavailable, please try again later."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_server = RedisServer(tmp_path / "redis", free_port(), ["--save", ""])
    redis_server.start()
    try:
        yield redis_server
    finally:
        if redis_server.process is not None:
            os.kill(redis_server.process.pid, signal.SIGCONT)
        redis_server.stop()


def ready(client: TestClient) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body, time.monotonic() - started


def test_ready_when_redis_the_database_and_the_queue_answer(server: RedisServer) -> None:
    with ops_gateway(server.url, ops={"timeout": TIMEOUT}) as (client, _):
        status, body, _took = ready(client)
    assert status == 200
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"redis", "database", "queue"}  # no Rasa configured
    for check in body["checks"].values():
        assert check["ok"] is True
        assert 0 <= check["ms"] < TIMEOUT * 1000
        assert "error" not in check


def test_unready_while_redis_is_stopped_and_ready_again_after(server: RedisServer) -> None:
    with ops_gateway(server.url, ops={"timeout": TIMEOUT}) as (client, _):
        assert ready(client)[0] == 200
        before = scrape(client)
        server.stop()
        status, body, took = ready(client)
        assert status == 503
        assert body["status"] == "unavailable"
        assert sorted(body["failed"]) == ["queue", "redis"]
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["redis"]["ok"] is False
        assert "Connection" in body["checks"]["redis"]["error"]
        assert took < QUICK
        # Meanwhile a citizen gets the polite answer, counted as a store outage.
        reply = client.post("/channels/web/messages", json={"user": "u-5f1c2a9b", "text": ""})
        assert reply.json()["replies"][0]["text"] == UNAVAILABLE
        after = scrape(client)  # answers without Redis: its figures are left out
        assert grew(before, after, "gateway_errors_total", kind="store_unavailable") == 1
        assert ("gateway_active_conversations", frozenset()) not in after
        assert ("gateway_queue_depth", frozenset()) not in after
        server.start()
        status, body, _took = ready(client)
        assert status == 200, body
        assert ("gateway_active_conversations", frozenset()) in scrape(client)


def assert_only_failing(client: TestClient, name: str) -> None:
    """503 naming `name` alone, every other check passing, answered quickly."""
    status, body, took = ready(client)
    assert status == 503
    assert body["failed"] == [name]
    assert {key for key, check in body["checks"].items() if check["ok"]} == (
        set(body["checks"]) - {name}
    )
    assert took < QUICK


def test_unready_while_only_the_queue_is_down(server: RedisServer, tmp_path: Path) -> None:
    """The queue on a Redis of its own (GATEWAY_QUEUE_URL): its outage alone is named."""
    queue = RedisServer(tmp_path / "queue", free_port(), ["--save", ""])
    queue.start()
    try:
        with ops_gateway(server.url, queue_url=queue.url, ops={"timeout": TIMEOUT}) as (
            client,
            _,
        ):
            assert ready(client)[0] == 200
            queue.stop()
            assert_only_failing(client, "queue")
    finally:
        queue.stop()


class Cable:
    """A TCP link from a loopback port to PostgreSQL that can be cut (every connection
    through it closed and no new one taken) and joined again on the same port: the
    network between the gateway and its database failing, the real server on the far end."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0  # chosen by the first join, kept by the next ones
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()  # a connection is accepted whole or not at all

    def join(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        with self.lock:
            self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            ends, self.sockets = self.sockets, []
        assert listener is not None
        # shutdown first: close() alone leaves the socket listening while a thread
        # is blocked in accept() on it (Linux).
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for end in ends:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                far = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                near.close()  # the database itself is down: the gateway sees it so
                continue
            far.settimeout(None)
            with self.lock:
                if self.listener is not listener:  # cut while this one was accepted
                    near.close()
                    far.close()
                    return
                self.sockets += [near, far]
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_unready_while_only_the_database_is_out_of_reach(server: RedisServer) -> None:
    cable = Cable(("127.0.0.1", 5432))
    cable.join()
    database = f"postgresql://postgres@127.0.0.1:{cable.port}/test"
    try:
        with ops_gateway(server.url, database_url=database, ops={"timeout": TIMEOUT}) as (
            client,
            _,
        ):
            assert ready(client)[0] == 200
            cable.cut()
            assert_only_failing(client, "database")
            cable.join()
            deadline = time.monotonic() + 5
            while ready(client)[0] != 200:  # a new connection through the mended cable
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        if cable.listener is not None:
            cable.cut()


def test_a_frozen_redis_never_makes_readyz_hang(server: RedisServer) -> None:
    """A Redis that takes connections but never answers (SIGSTOP): each check gives up
    after its timeout, and a second probe waits for the first one's check instead of
    starting another."""
    with ops_gateway(server.url, ops={"timeout": TIMEOUT}) as (client, _):
        assert ready(client)[0] == 200
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            for _ in range(2):
                status, body, took = ready(client)
                assert status == 503
                assert sorted(body["failed"]) == ["queue", "redis"]
                assert body["checks"]["redis"]["error"] == f"no answer within {TIMEOUT:g} s"
                assert took < QUICK
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while ready(client)[0] != 200:  # the abandoned checks finish; new ones pass
            assert time.monotonic() < deadline
            time.sleep(0.05)


class FakeRasa:
    """Rasa's root endpoint on a loopback port (`GET /`: "Hello from Rasa")."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = b"Hello from Rasa: 3.6.21"
                self.send_response(200)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeRasa:
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_rasa_is_checked_when_configured(redis_database: RedisDatabase) -> None:
    with (
        FakeRasa() as rasa,
        ops_gateway(redis_database.url, rasa_url=rasa.url, ops={"timeout": TIMEOUT}) as (
            client,
            _,
        ),
    ):
        status, body, _took = ready(client)
    assert status == 200
    assert body["checks"]["rasa"]["ok"] is True
    assert body["checks"]["rasa"]["breaker"] == "closed"


def test_a_dead_rasa_makes_the_gateway_unready_unless_optional(
    redis_database: RedisDatabase,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with ops_gateway(redis_database.url, rasa_url=dead, ops={"timeout": TIMEOUT}) as (client, _):
        status, body, took = ready(client)
    assert status == 503
    assert body["failed"] == ["rasa"]
    assert body["checks"]["rasa"]["ok"] is False
    assert took < QUICK
    optional = {"timeout": TIMEOUT, "optional": ("rasa",)}
    with ops_gateway(redis_database.url, rasa_url=dead, ops=optional) as (client, _):
        status, body, _took = ready(client)
    assert status == 200  # the embedded classifier answers while Rasa is away
    assert body["checks"]["rasa"]["ok"] is False
