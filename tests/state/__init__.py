"""Tests of the session store, and the Redis servers they run against.

The helpers below are shared with `tests/gateway` (conversations over Redis, a Redis
outage). A test that needs a Redis it cannot reach FAILS, it never skips: on CI
(`CI=true`) the servers are installed, and locally a skipped store suite would pass
silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.asyncio.connection import AbstractConnection

SHARED_HOST = "127.0.0.1"
SHARED_PORT = 6379
START_TIMEOUT = 10.0


def missing(what: str) -> None:
    """Fail (never skip) a test whose service is unavailable."""
    where = "on CI (CI=true)" if os.environ.get("CI") == "true" else "for these tests"
    pytest.fail(f"{what} is required {where} but is not available", pytrace=False)


def binary(name: str) -> str:
    """`redis-server` or `redis-cli`, from PATH or /usr/bin."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else "")
    if not found:
        missing(name)
    return found


def answers_ping(port: int, host: str = SHARED_HOST) -> bool:
    try:
        with redis.Redis(host=host, port=port, socket_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((SHARED_HOST, port))
        except OSError:
            return False
    return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A free loopback port (and, for a cluster node, a free bus port 10000 above it)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((SHARED_HOST, 0))
            port: int = sock.getsockname()[1]
        if not cluster_bus:
            return port
        if port + 10000 <= 65535 and _port_free(port + 10000):
            return port
    raise RuntimeError("no free port")


class RedisServer:
    """A redis-server process of the test session's own, on a loopback port."""

    def __init__(self, directory: Path, port: int, options: Sequence[str] = ()) -> None:
        self.directory = directory
        self.port = port
        self.options = tuple(options)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{SHARED_HOST}:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "redis.log"
        command = [
            binary("redis-server"),
            "--port",
            str(self.port),
            "--bind",
            SHARED_HOST,
            "--dir",
            str(self.directory),
            "--logfile",
            str(log),
            "--daemonize",
            "no",
            *self.options,
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{text}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Terminate the server (SIGTERM) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class RoundTrips:
    """Counts what the asyncio Redis clients write to their sockets: one count per
    command sent alone, one per pipeline (a round trip each)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = AbstractConnection.send_packed_command

        async def counted(
            connection: AbstractConnection, command: Any, check_health: bool = True
        ) -> None:
            self.count += 1
            await original(connection, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)

    def reset(self) -> int:
        """The count so far, starting again from zero."""
        count, self.count = self.count, 0
        return count
