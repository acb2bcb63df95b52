"""What the studio's browser tests share: the gateway served with its people, a signed-in
browser that collects the page's script errors, and what an author does in the form
(add a step, unfold its fields, type into a field)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Response, expect

from gateway.app import create_app
from gateway.runtime import Runtime
from state.access import Grant, Role
from tests.browser import ROOT, opened_page, served
from tests.gateway.console.desk_app import PASSWORD, add_accounts, cheap_hasher, console_settings
from tests.gateway.console.test_console_browser import sign_in
from tests.redis_databases import RedisDatabase

PICTURES = ROOT / "docs" / "studio"
AUTHOR = "sonam@gov.bt"
PUBLISHER = "kinley@gov.bt"
WAIT_MS = 15_000


@contextmanager
def studio_gateway(
    database: RedisDatabase, people: dict[str, list[Grant]]
) -> Iterator[tuple[str, FastAPI]]:
    """The gateway served on loopback with `people`'s accounts: its URL and its app."""
    settings = console_settings(database)
    add_accounts(settings, people)
    app = create_app(settings)
    with served(app) as url:
        Runtime.of(app).accounts.hasher = cheap_hasher()
        yield url, app


@pytest.fixture
def live(redis_database: RedisDatabase) -> Iterator[str]:
    """The gateway's URL, with an author and a publisher of every service."""
    people = {AUTHOR: [Grant(Role.AUTHOR)], PUBLISHER: [Grant(Role.PUBLISHER)]}
    with studio_gateway(redis_database, people) as (url, _app):
        yield url


@contextmanager
def person(browser: Browser, url: str, email: str) -> Iterator[tuple[Page, list[str]]]:
    """A signed-in browser at 1280 x 800; the page's script errors and CSP refusals."""
    with opened_page(browser, url, width=1280, height=800, timeout_ms=WAIT_MS) as page:
        problems: list[str] = []

        def heard(message: ConsoleMessage) -> None:
            if message.type == "error" and not message.text.startswith("Failed to load"):
                problems.append(message.text)

        def answered(response: Response) -> None:
            # 409: the conflict the test makes; 422 from the preview: a draft with errors
            # while it is written (the page shows an estimate meanwhile).
            expected = (
                response.status == 409
                or (response.status == 422 and "/draft/preview" in response.url)
                or response.url.endswith("/favicon.ico")
            )
            if response.status >= 400 and not expected:
                problems.append(f"{response.status} {response.request.method} {response.url}")

        page.on("console", heard)
        page.on("response", answered)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto("/console")
        sign_in(page, email, PASSWORD)
        yield page, problems


# --- what the author does, in the form ----------------------------------------------------


def announced(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.locator("#announce")).to_have_text(text)


def add_step(page: Page, kind: str, step_id: str) -> Locator:
    """A step added through the "Add a step" form (before the final end step); its item,
    its fields open, the first one to fill focused."""
    page.get_by_label("Step type").select_option(kind)
    page.get_by_label("Step id (the answer's name)").fill(step_id)
    page.get_by_role("button", name="Add step").click()
    announced(page, re.compile(f"^Step {step_id} added at position"))
    return page.locator(f"#step-{step_id}")


def open_step(step: Locator) -> None:
    """Unfolds the step's fields ("Fields of <id>"), if they are folded."""
    fields = step.locator(":scope > details")
    if fields.get_attribute("open") is None:
        fields.locator(":scope > summary").click()
    expect(fields).to_have_attribute("open", "")


def more_fields(step: Locator) -> None:
    """Opens the step's own "More fields", if it is folded (it stays open when the form is
    redrawn)."""
    open_step(step)
    fold = step.locator(":scope > details > .fields > details.optional")
    if fold.get_attribute("open") is None:
        fold.locator(":scope > summary").click()
    expect(fold).to_have_attribute("open", "")


def write(step: Locator, label: str, text: str) -> None:
    """Types into a field as a person does: click it, then the keyboard."""
    field = step.get_by_label(label, exact=True)
    field.click()
    field.press("Control+A")
    field.page.keyboard.type(text)
    expect(field).to_have_value(text)
