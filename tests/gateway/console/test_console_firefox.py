"""The console in Firefox too: an officer signs in, opens a drone permit application and
returns it for correction, in Debian's firefox-esr.

Playwright's Firefox is a patched build it downloads, which is not used here; stock Firefox
speaks WebDriver BiDi, and `firefox.mjs` (next to this file) drives it with puppeteer-core
(package.json, installed by `make axe`; no browser downloaded). The gateway is served by
uvicorn on a loopback port (tests/browser.py) with real Redis (a leased database), SQLite
in a new folder and the shipped services; the application is made over USSD.

Nothing here skips: without firefox-esr (`make firefox`), node or puppeteer-core (`make
axe`) the test FAILS, on CI (`CI=true`) as on a laptop.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.accounts import AccountStore
from state.database import Database, database_url
from state.submissions import SubmissionRow, SubmissionStore
from tests.browser import served
from tests.gateway.console.desk_app import (
    DRONE_ANSWERS,
    PASSWORD,
    console_settings,
    dial_served,
    in_days,
    officer,
)
from tests.redis_databases import RedisDatabase
from tests.state import missing

# Firefox, node and the gateway it serves: integration (tests/conftest.py), like the
# Chromium tests that take the `browser` fixture.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("firefox.mjs")
PUPPETEER = ROOT / "node_modules" / "puppeteer-core" / "package.json"
OFFICER = "dorji@gov.bt"
REFERENCE = re.compile(r"DFA-\d{4}-\d{6}")
RUN_TIMEOUT = 150.0  # seconds: Firefox's first start in a new profile takes a few


@dataclass(frozen=True)
class Tools:
    node: str
    firefox: str


def tools() -> Tools:
    """node, Debian's firefox-esr and puppeteer-core: a missing one fails the test."""
    firefox = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
    if not Path(firefox).exists():
        missing("Debian's firefox-esr (`make firefox`, or apt-get install firefox-esr)")
    node = shutil.which("node")
    if node is None:
        missing("node (`make axe` installs nodejs and npm)")
    assert node is not None
    if not PUPPETEER.is_file():
        missing(
            f"puppeteer-core ({PUPPETEER.parent.relative_to(ROOT)}: run `make axe`, which "
            "runs `npm ci` at the repository root)"
        )
    return Tools(node, firefox)


def cheap_hasher() -> PasswordHasher:
    # The real parameters (64 MiB) are tested in tests/state/test_accounts.py.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def in_database(settings: Settings, work: Any) -> Any:
    """`await work(database)` on a connection of its own to the gateway's database, in a
    thread of its own (the served app's event loop is in another)."""

    async def run() -> Any:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()
            return await work(database)
        finally:
            await database.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result()


def add_officer(settings: Settings) -> None:
    async def add(database: Database) -> None:
        await AccountStore(database, cheap_hasher()).add(
            OFFICER, PASSWORD, [officer("drone-flight-authorization")]
        )

    in_database(settings, add)


def submission(settings: Settings, reference: str) -> SubmissionRow | None:
    async def read(database: Database) -> SubmissionRow | None:
        return await SubmissionStore(database).by_reference(reference)

    row: SubmissionRow | None = in_database(settings, read)
    return row


@pytest.fixture
def settings(redis_database: RedisDatabase) -> Settings:
    return console_settings(redis_database)


@pytest.fixture
def console(settings: Settings) -> Iterator[str]:
    """The console served on a loopback port, with one officer for the drone permits."""
    add_officer(settings)
    app = create_app(settings)
    with served(app) as url:
        Runtime.of(app).accounts.hasher = cheap_hasher()  # a rehash at sign-in stays cheap
        yield url


def run_in_firefox(tools: Tools, url: str, email: str, password: str) -> dict[str, Any]:
    """firefox.mjs against `url`: what it saw (its JSON), or the test failed with its
    output."""
    try:
        done = subprocess.run(
            [tools.node, str(SCRIPT), url, email, password],
            cwd=ROOT,
            env={**os.environ, "FIREFOX": tools.firefox},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(
            f"firefox.mjs did not finish in {RUN_TIMEOUT:g} s:\n{expired.stdout!r}\n"
            f"{expired.stderr!r}",
            pytrace=False,
        )
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        result = {}
    if done.returncode != 0 or not result.get("ok"):
        pytest.fail(
            f"firefox.mjs failed (exit {done.returncode}):\n{done.stderr.strip()}\n"
            f"stdout: {done.stdout.strip()}",
            pytrace=False,
        )
    return result


def test_an_officer_returns_an_application_in_firefox(settings: Settings, console: str) -> None:
    needed = tools()
    answers = [*DRONE_ANSWERS, in_days(5), in_days(7), "100", "1", "1"]
    screen = dial_served(console, "ATU-FF-1", answers)
    found = REFERENCE.search(screen)
    assert found is not None, screen
    reference = found.group(0)

    seen = run_in_firefox(needed, console, OFFICER, PASSWORD)

    assert seen["browser"].lower().startswith("firefox"), seen
    assert seen["signed_in_at"] == "/console/applications"
    assert seen["queue_heading"] == "Applications"
    assert seen["reference"] == reference
    assert seen["application_heading"] == f"Application {reference}"
    assert seen["status_before"] == "submitted"
    assert {"Approve", "Reject", "Return for correction"} <= set(seen["buttons"])
    assert seen["status"] == "returned"
    assert seen["notice"] == "Returned for correction. The citizen is being told what to correct."
    assert seen["url"] == f"{console}/console/applications/{reference}?done=returned"

    row = submission(settings, reference)
    assert row is not None
    assert row.status == "returned"
    assert row.correction == {"steps": [seen["ticked"]["value"]], "note": seen["note"]}
    assert row.assigned_to is not None  # the officer who returned it
