"""A running gateway for the console's tests: real Redis (a leased database), SQLite in a
new folder, the shipped services, the console open, and what those tests do with it:
make accounts, sign in, dial a drone permit application over USSD."""

from __future__ import annotations

import asyncio
import re
import tempfile
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.access import Account, Grant, Role
from state.accounts import AccountStore
from state.database import Database, database_url
from tests.gateway.providers.apps import AGGREGATOR, AGGREGATORS, dial, ussd_form
from tests.redis_databases import RedisDatabase

ROOT = Path(__file__).resolve().parents[3]
SECRET = "console-secret-for-the-tests-only-4f9a"
PASSWORD = "correct horse battery staple"
DRONE_CODE = "*384*7#"
CITIZEN = "+97517123456"


def console_settings(database: RedisDatabase, **settings: Any) -> Settings:
    var = Path(tempfile.mkdtemp(prefix="gateway-console-"))
    values: dict[str, Any] = {
        "redis_url": database.url,
        "var_dir": var,
        "services_dir": ROOT / "services",
        "console_secret": SECRET,
        "ussd_allowed_ips": AGGREGATORS,
        "ussd_codes": {DRONE_CODE: "drone-flight-authorization"},
        **settings,
    }
    return Settings(**values)


@contextmanager
def console_app(database: RedisDatabase, **settings: Any) -> Iterator[TestClient]:
    app = create_app(console_settings(database, **settings))
    with TestClient(app, client=AGGREGATOR, follow_redirects=False) as client:
        # Cheap hashes: the suite would spend seconds on 64 MiB ones (the real
        # parameters are tested in tests/state/test_accounts.py).
        Runtime.of(app).accounts.hasher = cheap_hasher()
        yield client


def cheap_hasher() -> PasswordHasher:
    # The real parameters (64 MiB) are tested in tests/state/test_accounts.py.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def add_accounts(settings: Settings, people: dict[str, list[Grant]]) -> list[Account]:
    """Accounts (email: grants, each with PASSWORD) in the database of `settings`, migrated
    first, before the gateway is served (a browser test's accounts)."""

    async def add() -> list[Account]:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()
            accounts = AccountStore(database, cheap_hasher())
            return [await accounts.add(email, PASSWORD, grants) for email, grants in people.items()]
        finally:
            await database.close()

    # In a thread of its own: Playwright's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, add()).result()


def runtime(client: TestClient) -> Runtime:
    assert isinstance(client.app, FastAPI)
    return Runtime.of(client.app)


def add_account(client: TestClient, email: str, *grants: Grant) -> Account:
    assert client.portal is not None
    return client.portal.call(runtime(client).accounts.add, email, PASSWORD, list(grants))


def officer(service: str | None = None) -> Grant:
    return Grant(Role.OFFICER, service)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the page, as a browser does; the response to the form."""
    page = client.get("/console")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None, page.text
    return client.post(
        "/console/sign-in",
        data={"email": email, "password": password, "form_token": token.group(1), "next": ""},
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).strftime("%d/%m/%Y")


DRONE_ANSWERS = [
    "11512000123",
    "DJI Mavic 3",
    "2",  # 250 g - 2 kg
    "1",  # photography
    "Paro",
]


def apply_for_drone_permit(client: TestClient, session: str = "s-1", phone: str = CITIZEN) -> str:
    """A drone permit applied for over USSD to the end; its reference."""
    answers = [*DRONE_ANSWERS, in_days(5), in_days(7), "100", "1", "1"]
    screen = dial(client, DRONE_CODE, session, answers, phone)
    found = re.search(r"DFA-\d{4}-\d{6}", screen)
    assert found is not None, screen
    return found.group(0)


def dial_served(
    url: str, session: str, answers: list[str], phone: str = CITIZEN, code: str = DRONE_CODE
) -> str:
    """`dial` a code (the drone permit's by default) on a gateway served at `url` (from
    127.0.0.1, on the allow-list), as Africa's Talking posts each screen; the last screen."""
    screen = ""
    for count in range(len(answers) + 1):
        form = ussd_form(code, session, answers[:count], phone)
        posted = urllib.request.Request(
            url + "/channels/ussd/africastalking",
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(posted, timeout=10) as response:
            assert response.status == 200
            screen = response.read().decode()
    return screen
