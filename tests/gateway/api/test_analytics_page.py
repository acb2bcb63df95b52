"""The drop-off page at /analytics/{service} in real headless Chromium (Debian's
`chromium`, driven by Playwright): it asks for the admin token once, draws the funnel as
SVG bars and the per-step figures in a table, and filters by channel.

The gateway runs with uvicorn in a thread (as in `test_chat_page.py`) on a Redis database
leased to the test, with the census lookup and the submission store faked; two citizens
go through the web chat API first: one registers a business, one stops at its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from gateway.settings import Settings
from state.store import SessionStore
from tests.dialogs.helpers import CENSUS_MOBILE
from tests.gateway.api.test_chat_page import CHROMIUM_FLAGS, Live, chromium
from tests.gateway.api.test_chat_page import live_gateway as serve_live
from tests.redis_databases import RedisDatabase

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "page-admin-token-8d"
SCREENSHOT = Path("/tmp/analytics-page.png")
REGISTERS = ["", "2", "11501001234", "Pema Store", "1", "2", "14", "17123456", "1", "1"]
STOPS = ["", "2", "11501001234", "stop"]


@contextmanager
def live_gateway(database: RedisDatabase, **settings: Any) -> Iterator[Live]:
    """The gateway served by uvicorn in a thread (as for the chat page), on `database`."""
    config = Settings(redis_url=database.url, services_dir=ROOT / "services", **settings)
    with serve_live(config) as running:
        yield running


@pytest.fixture
def live(tmp_path: Path, redis_database: RedisDatabase) -> Iterator[Live]:
    with live_gateway(redis_database, admin_token=TOKEN, var_dir=tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live: Live, redis_database: RedisDatabase) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 900}, base_url=live.url)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    with redis_database.client() as client:
        for user in ("citizen-one", "citizen-two"):  # they proved their number before
            client.set(SessionStore.phone_key(f"web:{user}"), CENSUS_MOBILE, ex=3600)
    for user, answers in (("citizen-one", REGISTERS), ("citizen-two", STOPS)):
        for number, text in enumerate(answers):
            payload = {"user": user, "text": text, "id": f"{user}-{number}"}
            response = opened.request.post("/channels/web/messages", data=payload)
            assert response.ok, response.text()
    try:
        yield opened
    finally:
        context.close()


def test_the_funnel_is_drawn_after_the_token_is_given(page: Page) -> None:
    page.goto("/analytics/business-registration")
    token = page.get_by_label("Admin token")
    expect(token).to_be_visible()
    expect(token).to_be_focused()
    expect(page.locator("#report")).to_be_hidden()

    token.fill("wrong-token")
    page.get_by_role("button", name="Show figures").click()
    expect(page.get_by_role("alert")).to_have_text("That token was not accepted.")

    token.fill(TOKEN)
    token.press("Enter")
    expect(page.locator("#report")).to_be_visible()
    expect(page.locator("#title")).to_have_text("Register a business: where citizens get stuck")
    expect(page.locator("#started")).to_have_text("2")
    expect(page.locator("#completed")).to_have_text("1")
    expect(page.locator("#rate")).to_have_text("50.0 %")

    # One bar for the attempts started, then one a step in the service's order.
    bars = page.locator("#chart svg g.step")
    expect(bars).to_have_count(17)  # 16 steps, with the reviewed path's submit and end
    expect(bars.first.locator("text.count")).to_have_text("2")
    cid = page.locator('#chart g[data-step="cid"]')
    expect(cid.locator("text").first).to_have_text("Citizenship ID")
    expect(cid.locator("text.count")).to_have_text("2")
    name = page.locator('#chart g[data-step="business_name"]')
    expect(name.locator("text.count")).to_have_text("2")
    expect(name.locator("rect.drop")).to_have_count(1)  # one citizen stopped there
    full = float(name.locator("rect.bar").get_attribute("width") or 0)
    lost = float(name.locator("rect.drop").get_attribute("width") or 0)
    assert full == 330  # as long as the longest bar: both citizens got there
    assert lost == 165  # half of it red: one of them stopped there
    done = page.locator('#chart g[data-step="done"]')
    assert float(done.locator("rect.bar").get_attribute("width") or 0) == 165

    row = page.locator('#steps tbody tr[data-step="business_name"] td')
    # Real time here: the one accepted business name came within moments.
    expect(row).to_have_text(["Business namebusiness_name", "2", "1", "0", re.compile(r"^\d+ s$")])
    expect(page.locator('#steps tbody tr[data-step="business_type"] td').nth(1)).to_have_text("1")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # The channel filter lists the channels seen; the token is not asked again.
    channel = page.get_by_label("Channel")
    expect(channel.locator("option")).to_have_text(["All channels", "web"])
    channel.select_option("web")
    expect(page.locator("#started")).to_have_text("2")
    page.reload()
    expect(page.locator("#report")).to_be_visible()
    expect(page.locator("#completed")).to_have_text("1")
    assert page.evaluate("sessionStorage.getItem('gw-admin-token')") == TOKEN

    page.get_by_role("button", name="Forget token").click()
    expect(page.get_by_label("Admin token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('gw-admin-token')") is None
