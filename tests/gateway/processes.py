"""The processes gateway tests start around the gateway, and how they wait for them.

- `running`: a Redis server (the embedded one, `state.embedded.EmbeddedRedis`, or the
  machine's, `tests.state.RedisServer`) started for a block: its URL;
- `private_redis`: the machine's redis-server on a free loopback port, no persistence;
- `census_services`: the shipped services, their census lookup pointed at
  `bench/fake_census.py`;
- `base_env`: the environment a `gateway serve` process starts with;
- `wait_until`: polling until something is ready.

Used by `test_nothing_lost.py` (and `test_scale_out.py`, on its deployment),
`test_open_internet.py`, the tests on a Redis of their own (`conftest.py`'s `redis_url`,
`fuzzing.py`) and `security/conftest.py`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from bench import fake_census
from bench.servers import services_copy
from state.embedded import EmbeddedRedis
from tests.state import RedisServer, free_port

T = TypeVar("T")


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 15.0) -> T:
    """Poll `check` until it gives something other than None/False; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@contextmanager
def running(server: EmbeddedRedis | RedisServer) -> Iterator[str]:
    """`server` started: its URL, until the block ends and stops it."""
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def private_redis(folder: Path) -> Iterator[int]:
    """A redis-server of the test's own on a free loopback port (its files under
    `folder`), without persistence: its port. Fails, never skips, without redis-server."""
    with ExitStack() as stack:
        for _ in range(3):  # another process may take the port between its choice and its use
            server = RedisServer(folder, free_port(), ["--save", "", "--appendonly", "no"])
            with suppress(RuntimeError):  # it did not start
                stack.enter_context(running(server))
                break
        else:
            raise AssertionError("redis-server could not start on a free port")
        yield server.port


@contextmanager
def census_services(folder: Path) -> Iterator[Path]:
    """The shipped services copied to `folder`, their census lookup pointed at
    `bench/fake_census.py` (running until the block ends)."""
    port = free_port()
    census = fake_census.spawn(port)
    try:
        yield services_copy(folder, port)
    finally:
        census.terminate()
        census.wait(timeout=10)
        if census.stdout is not None:
            census.stdout.close()


def base_env() -> dict[str, str]:
    """This process's environment for a gateway process, without any GATEWAY_ or AWS_
    setting of the machine's nor a proxy; its output unbuffered."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GATEWAY_", "AWS_")) and "proxy" not in name.lower()
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env
