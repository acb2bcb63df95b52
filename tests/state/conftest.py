"""The store suite's backends: the shared Redis, the embedded one, a Redis Cluster.

The cluster and the embedded Redis are started once per test session and emptied before
every test; on the shared Redis each test leases a database of its own
(`redis_database`). The asyncio client is made per test, in the test's event loop. Every
backend, and the PostgreSQL half of the database suite, is `integration`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from state.connect import connect
from state.database import Database, database_url
from state.embedded import EmbeddedRedis
from state.store import SessionStore
from tests.redis_databases import RedisDatabase
from tests.state import SHARED_HOST, RedisServer, binary, free_port

INTEGRATION = pytest.mark.integration
BACKENDS = ("server", "embedded", "cluster")
CLUSTER_NODES = 3
CLUSTER_TIMEOUT = 20.0


@dataclass(frozen=True)
class Backend:
    """A Redis the store suite runs on, with what the tests need to look inside it."""

    name: str
    url: str
    nodes: tuple[Callable[[], redis.Redis], ...]  # a plain client per server (node)

    @property
    def cluster(self) -> bool:
        return self.name == "cluster"

    def flush(self) -> None:
        for node in self.nodes:
            with node() as client:
                client.flushdb()

    def all_keys(self) -> list[str]:
        """Every key on every node."""
        found: list[str] = []
        for node in self.nodes:
            with node() as client:
                found += [k.decode() for k in client.scan_iter(count=1000)]
        return sorted(found)


@dataclass
class Cluster:
    servers: list[RedisServer]

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    @property
    def url(self) -> str:
        return f"redis+cluster://{SHARED_HOST}:{self.ports[0]}"


def _cluster_ok(port: int) -> bool:
    try:
        with redis.Redis(host=SHARED_HOST, port=port, socket_timeout=1) as client:
            info = client.execute_command("CLUSTER", "INFO")
    except redis.RedisError:
        return False
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster_state:ok" in text


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three `redis-server --cluster-enabled yes` nodes on loopback, made a cluster."""
    root = tmp_path_factory.mktemp("cluster")
    cluster = Cluster([])
    try:
        for index in range(CLUSTER_NODES):
            server = RedisServer(
                root / f"node{index}",
                free_port(cluster_bus=True),
                [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
            )
            server.start()
            cluster.servers.append(server)
        subprocess.run(
            [
                binary("redis-cli"),
                "--cluster",
                "create",
                *(f"{SHARED_HOST}:{port}" for port in cluster.ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=CLUSTER_TIMEOUT,
        )
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        while not all(_cluster_ok(port) for port in cluster.ports):
            assert time.monotonic() < deadline, "the cluster never reached cluster_state:ok"
            time.sleep(0.05)
        yield cluster
    finally:
        for server in cluster.servers:
            server.stop()


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("embedded"))
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def _tcp(port: int) -> Callable[[], redis.Redis]:
    return lambda: redis.Redis(host=SHARED_HOST, port=port, socket_timeout=5)


def _unix(path: Path) -> Callable[[], redis.Redis]:
    return lambda: redis.Redis(unix_socket_path=str(path), socket_timeout=5)


@pytest.fixture(params=[pytest.param(name, marks=INTEGRATION) for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every store test runs on each of these, emptied first."""
    name: str = request.param
    if name == "server":
        database: RedisDatabase = request.getfixturevalue("redis_database")
        found = Backend(name, database.url, (database.client,))
    elif name == "embedded":
        embedded: EmbeddedRedis = request.getfixturevalue("embedded_redis")
        found = Backend(name, embedded.url, (_unix(embedded.socket),))
    else:
        cluster: Cluster = request.getfixturevalue("redis_cluster")
        found = Backend(name, cluster.url, tuple(_tcp(port) for port in cluster.ports))
    found.flush()
    return found


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[SessionStore]:
    session_store = SessionStore(connect(backend.url))
    try:
        yield session_store
    finally:
        await session_store.close()


POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=INTEGRATION)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database: a new SQLite file, or the real PostgreSQL with a clean schema."""
    if request.param == "sqlite":
        url = database_url(None, tmp_path / "var")
    else:
        url = database_url(POSTGRES, tmp_path)
    db = Database(url)
    if request.param == "postgresql":
        # Every table, function and trigger any migration made, whichever they are.
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await db.migrate()
    yield db
    await db.close()
