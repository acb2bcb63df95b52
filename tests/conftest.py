"""Fixtures shared by the whole test suite, and the `integration` marker.

A test is `integration` when it needs a service: a Redis (the shared one at 127.0.0.1:6379,
or a redis-server it starts: embedded, cluster, private), PostgreSQL, Rasa, Chromium, or
gateway processes. `pytest -m "not integration"` runs the rest, without any of them.

A test is marked from the fixtures it uses (`SERVICE_FIXTURES`, directly or through other
fixtures), by its module (`pytestmark = pytest.mark.integration` where the tests start
servers themselves) or by a fixture parameter (`pytest.param(..., marks=...)`, e.g. the
PostgreSQL half of a database suite). A test that is not marked runs under a guard: opening
a connection to Redis's or PostgreSQL's port, or starting one of `SERVICE_PROGRAMS`, Rasa or
the browser's driver, fails it, so a forgotten mark shows at once rather than on a machine
without the services.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dialogs.catalog import Catalog
from gateway.catalog.repository import Repository, load_repository
from nlu.rasa_runtime import rasa_home
from tests.dialogs.helpers import NOW, SERVICES_DIR
from tests.redis_databases import RedisDatabase, leased_database

INTEGRATION = "integration"

# Fixtures that start or reach a service: a test using one of them is `integration`.
SERVICE_FIXTURES = frozenset(
    {
        "redis_database",  # the shared Redis (below)
        "module_redis_database",
        "redis_url",  # a Redis of the test's own: tests/gateway/conftest.py, security/
        "redis6_server",  # tests/gateway/security/conftest.py
        "redis7_server",
        "redis_cluster",  # tests/state/conftest.py
        "embedded_redis",
        "browser",  # Chromium: tests/gateway/api/
        "graphviz",  # its `dot`: tests/gateway/conftest.py
    }
)
SERVICE_PORTS = frozenset({6379, 5432, 5005})  # Redis, PostgreSQL, Rasa
SERVICE_PROGRAMS = frozenset(
    {
        "redis-server",
        "redis-sentinel",
        "redis-cli",
        "postgres",
        "psql",
        "chromium",
        "chromium-browser",
        "firefox-esr",
        "firefox",
        "node",  # puppeteer-core driving Firefox: tests/gateway/console/firefox.mjs
        "chrome",
        "gateway",  # the installed command: `gateway serve`, `gateway worker`
        "uvicorn",
    }
)
# The real Rasa, as the session found it (a test may point GATEWAY_RASA_HOME at a stand-in).
RASA_HOME = rasa_home().absolute()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{INTEGRATION}: needs Redis, PostgreSQL, Rasa, Chromium or gateway processes "
        '(deselect with -m "not integration")',
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not SERVICE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
            item.add_marker(INTEGRATION)


# ---- the guard around tests that are not integration --------------------------------------


def _reached_port(address: Any) -> str | None:
    """What `address` reaches when it is a service's: "port 6379" or a PostgreSQL socket."""
    if isinstance(address, tuple) and len(address) >= 2 and address[1] in SERVICE_PORTS:
        return f"{address[0]}:{address[1]}"
    if isinstance(address, (str, bytes)) and ".s.PGSQL." in os.fsdecode(address):
        return os.fsdecode(address)
    return None


def _started_program(args: Any, executable: Any) -> str | None:
    """The service `args` (a Popen command) starts, if it is one."""
    if isinstance(args, (str, bytes, os.PathLike)):
        command = [os.fsdecode(args).split(" ", 1)[0]]
    else:
        command = [os.fsdecode(part) for part in args]
    if not command:
        return None
    program = Path(os.fsdecode(executable) if executable else command[0])
    if program.name in SERVICE_PROGRAMS:
        return program.name
    if "playwright" in program.parts:
        return f"Playwright's browser driver ({program})"
    if program.absolute().is_relative_to(RASA_HOME):
        return f"Rasa ({program})"
    if command[1:3] == ["-m", "gateway"] or command[1:3] == ["-m", "gateway.cli.main"]:
        return "the gateway"
    return None


@contextmanager
def _guarded(item: pytest.Item) -> Iterator[None]:
    """Runs a phase of `item`; if the item is not `integration`, fails it when it reached
    a service, even if the test caught the error it was given."""
    if item.get_closest_marker(INTEGRATION) is not None:
        yield
        return
    reached: list[str] = []

    def refuse(what: str) -> OSError:
        reached.append(what)
        return ConnectionRefusedError(f"{what}: refused to a test not marked {INTEGRATION}")

    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex
    popen = subprocess.Popen.__init__

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if (what := _reached_port(address)) is not None:
            raise refuse(what)
        connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        if (what := _reached_port(address)) is not None:
            raise refuse(what)
        return connect_ex(sock, address)

    def guarded_popen(process: Any, args: Any, *rest: Any, **options: Any) -> None:
        if (what := _started_program(args, options.get("executable"))) is not None:
            raise refuse(what)
        popen(process, args, *rest, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", guarded_connect)
        patch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        patch.setattr(subprocess.Popen, "__init__", guarded_popen)
        try:
            yield
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            if not reached:
                raise
        if reached:
            # Replaces whatever the refusal became (a failure saying Redis is missing,
            # a skip): the test needs a mark, not the service.
            pytest.fail(
                f"{item.nodeid} reached {', '.join(dict.fromkeys(reached))} but is not "
                f"marked {INTEGRATION}: take the service through its fixture (e.g. "
                f"redis_database) or mark the test or module "
                f"`pytest.mark.{INTEGRATION}` (tests/conftest.py)",
                pytrace=False,
            )


# Setup and the test itself: not the teardown, where the last test of a module may tear
# down the module's fixtures that an earlier, integration, test used.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _guarded(item):
        return (yield)


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def repository() -> Repository:
    """The real services folder, loaded, checked and compiled once."""
    return load_repository([SERVICES_DIR])


@pytest.fixture(scope="session")
def services_catalog(repository: Repository) -> Catalog:
    return repository.catalog


@pytest.fixture
def now() -> datetime:
    """The fixed clock of the tests."""
    return NOW


@pytest.fixture
def redis_database() -> Iterator[RedisDatabase]:
    """A database of the shared Redis that is this test's alone, empty (see
    tests/redis_databases.py)."""
    with leased_database() as database:
        yield database


@pytest.fixture(scope="module")
def module_redis_database() -> Iterator[RedisDatabase]:
    """A database of the shared Redis for a module's fixture that spans its tests (a
    gateway started once, its data read by each test): empty when the module starts."""
    with leased_database() as database:
        yield database
