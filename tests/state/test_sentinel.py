"""The store through Redis Sentinel: a master and a sentinel started by the test."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from state.connect import connect
from state.store import SessionRecord, SessionStore

pytestmark = pytest.mark.integration  # a master and a sentinel: redis-server processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError("Redis did not come up in time")


@pytest.fixture
def sentinel_url(tmp_path: Path) -> Iterator[str]:
    master_port, sentinel_port = _free_port(), _free_port()
    master = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(master_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n",
        encoding="utf-8",
    )
    sentinel = subprocess.Popen(
        ["redis-server", str(config), "--sentinel"], stdout=subprocess.DEVNULL
    )
    try:
        probe = redis.Redis(port=sentinel_port)
        _wait(lambda: probe.sentinel_get_master_addr_by_name("mymaster"))  # type: ignore[no-untyped-call]
        probe.close()
        yield f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster"
    finally:
        for process in (sentinel, master):
            process.terminate()
            process.wait(timeout=5)


async def test_a_conversation_is_kept_through_sentinel(sentinel_url: str) -> None:
    store = SessionStore(connect(sentinel_url))
    try:
        begun = await store.begin("+97517123456", "SM1", 5000)
        assert begun.token
        assert begun.record is None
        record = SessionRecord('{"id":"c"}', "sms", "", time.time() + 60)
        saved = await store.commit(
            "+97517123456",
            begun.token,
            record,
            ttl_seconds=60,
            message_id="SM1",
            reply="[]",
            events=[{"event": "started"}],
        )
        assert saved
        assert await store.read("+97517123456") == record
        again = await store.begin("+97517123456", "SM1", 5000)
        assert again.duplicate == "[]"
    finally:
        await store.close()
