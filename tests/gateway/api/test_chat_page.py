"""The web chat page at /chat: served right, small, self-contained, and a whole business
registration completed in real headless Chromium (Debian's `chromium`, driven by Playwright),
the citizen proving their number with the code their phone receives.

The browser tests run the gateway with uvicorn in a thread on a free loopback port, on the
real Redis (a database leased to each test), with the census lookup and the submission
store faked and the verification SMS delivered to a fake phone (tests/browser.py). Without
Chromium or axe-core they fail (`make test` installs both). axe-core checks the page (WCAG
2.x A/AA) when it opens, with options and typed answers, at an error and at the end, and the
/verify page the final message links to from a document's QR code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Request, Route, expect

from dialogs.messages import Reply
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.security.verification import CodeVerifier
from gateway.settings import Settings
from tests.browser import (
    CHROMIUM_FLAGS,
    assert_accessible,
    chromium_path,
    opened_page,
    screenshot,
    served,
)
from tests.browser import browser as browser  # the fixture: Chromium, once per module
from tests.gateway.providers.apps import Effects
from tests.redis_databases import RedisDatabase

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "gateway" / "static"
API = "**/channels/web/messages"
SCREENSHOTS = Path("/tmp")  # chat-page-360x640.png, chat-page-options.png, ...
# test_analytics_page.py takes these two from here (tests/browser.py has them now).
__all__ = ["CHROMIUM_FLAGS", "chromium"]
chromium = chromium_path


def settings(database: RedisDatabase) -> Settings:
    return Settings(redis_url=database.url, services_dir=ROOT / "services")


# --- served right -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "needle"),
    [
        ("/chat", "text/html; charset=utf-8", b'<label for="answer">'),
        ("/chat/chat.js", "text/javascript; charset=utf-8", b"channels/web/messages"),
        ("/chat/chat.css", "text/css; charset=utf-8", b"#log"),
    ],
)
def test_the_page_and_its_assets_are_served_with_their_content_types(
    path: str, content_type: str, needle: bytes, redis_database: RedisDatabase
) -> None:
    with TestClient(create_app(settings(redis_database))) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert needle in response.content


def test_an_unchanged_asset_is_answered_304(redis_database: RedisDatabase) -> None:
    with TestClient(create_app(settings(redis_database))) as client:
        etag = client.get("/chat/chat.js").headers["etag"]
        again = client.get("/chat/chat.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_the_page_is_small_and_loads_nothing_from_other_servers() -> None:
    files = sorted(STATIC.glob("chat.*"))
    assert {f.name for f in files} == {"chat.html", "chat.js", "chat.css"}
    assert sum(f.stat().st_size for f in files) < 15_000
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), f.name
        assert "@import" not in text
        assert "url(" not in text


def test_the_page_is_in_the_openapi_docs(redis_database: RedisDatabase) -> None:
    with TestClient(create_app(settings(redis_database))) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/chat"]
    assert "/chat/chat.js" not in paths


# --- a real browser -----------------------------------------------------------------------


@dataclass
class Phone:
    """The citizen's phone: the SMS the gateway sends it."""

    received: list[str] = field(default_factory=list)

    async def deliver(self, number: str, reply: Reply) -> None:
        self.received.append(reply.text)

    def code(self) -> str:
        found = re.search(r"\b(\d{6})\b", self.received[-1])
        assert found is not None, self.received
        return found.group(1)


@dataclass
class Live:
    """A running gateway: its base URL, fake effects, the citizen's phone, and what the
    page posted."""

    url: str
    effects: Effects
    phone: Phone = field(default_factory=Phone)
    posted: list[dict[str, Any]] = field(default_factory=list)


def body(request: Request) -> dict[str, Any]:
    data = request.post_data_json
    assert isinstance(data, dict)
    return data


@contextmanager
def live_gateway(settings: Settings) -> Iterator[Live]:
    """The gateway served by uvicorn in a thread on a free loopback port, the census
    lookup and the submission store faked."""
    app = create_app(settings)
    with served(app) as url:
        yield _faked(app, url, settings)


def _faked(app: FastAPI, url: str, settings: Settings) -> Live:
    """The started gateway's census lookup, submission store and SMS replaced by fakes."""
    effects = Effects()
    phone = Phone()
    conversations = Runtime.of(app).conversations
    conversations.lookup = effects.lookup  # no census on this machine's network
    conversations.submit = effects.submit
    conversations.verification = CodeVerifier(  # the real verifier; the SMS reaches `phone`
        conversations.store,
        Runtime.of(app).limiter,
        Runtime.of(app).budget,
        settings,
        phone.deliver,
    )
    return Live(url, effects, phone)


@pytest.fixture
def live(redis_database: RedisDatabase) -> Iterator[Live]:
    with live_gateway(settings(redis_database)) as running:
        yield running


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    with opened_page(browser, live.url, width=360, height=640) as opened:

        def record(request: Request) -> None:
            if request.url.endswith("/channels/web/messages"):
                live.posted.append(body(request))

        opened.on("request", record)
        yield opened


def last_bot(page: Page) -> Any:
    return page.locator("#log li.bot").last


def answer(page: Page, text: str, *, enter: bool = False) -> None:
    box = page.get_by_label("Your answer")
    expect(box).to_be_focused()  # a question without options puts the cursor in the box
    box.fill(text)
    if enter:
        box.press("Enter")
    else:
        page.get_by_role("button", name="Send").click()


def choose(page: Page, label: str) -> None:
    button = last_bot(page).get_by_role("button", name=label, exact=True)
    button.click()


def test_a_business_registration_in_the_browser(page: Page, live: Live) -> None:
    page.goto("/chat")
    expect(page).to_have_title("Government services chat")
    expect(last_bot(page)).to_contain_text("Government services. Choose one:")
    expect(page.get_by_role("button", name="Bus service permit")).to_be_focused()
    assert_accessible(page, "/chat when it opens, the services as options")
    log = page.get_by_role("log", name="Conversation")  # read out as it grows
    expect(log.locator("ol#log")).to_have_count(1)
    expect(log).to_have_attribute("aria-live", "polite")
    user = page.evaluate("localStorage.getItem('gw-chat-user')")
    assert isinstance(user, str)
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", user)

    choose(page, "Register a business")
    expect(page.locator("#log li.me").last).to_have_text("Register a business")
    expect(last_bot(page)).to_have_text("Enter your citizenship ID (11 digits)")
    expect(page.locator(".opts")).to_have_count(0)  # answered options are gone
    assert_accessible(page, "/chat after an option chosen, a question to type the answer to")
    answer(page, "11501001234")
    expect(last_bot(page)).to_have_text(
        "To continue, enter your mobile number. We will send it a 6-digit code by SMS."
    )
    answer(page, "17123456")
    expect(last_bot(page)).to_contain_text("Enter the 6-digit code we sent to +97517123456.")
    expect(page.get_by_role("button", name="Send a new code")).to_be_focused()
    assert_accessible(page, "/chat asking for the SMS code, three answers in")
    code = live.phone.code()
    box = page.get_by_label("Your answer")
    box.fill(code)  # typed from the SMS
    box.press("Enter")
    expect(page.locator("#log li.bot").nth(-2)).to_have_text("Thank you, your number is confirmed.")
    expect(last_bot(page)).to_have_text("Welcome Pema Wangmo. Enter the name of your business")
    answer(page, "Druk Bakery", enter=True)
    expect(last_bot(page)).to_contain_text("Type of business")
    choose(page, "Cottage")
    expect(last_bot(page)).to_contain_text("Main activity")
    choose(page, "Bakery")
    expect(last_bot(page)).to_contain_text("Dzongkhag of the business")
    screenshot(page, "chat-page-options", folder=SCREENSHOTS)
    assert_accessible(page, "/chat with a long list of options, eight answers in")
    choose(page, "Thimphu")
    expect(last_bot(page)).to_have_text("Contact mobile number")
    answer(page, "17123456")
    expect(last_bot(page)).to_contain_text("Business name: Druk Bakery\nType: Cottage")
    choose(page, "Confirm")
    expect(last_bot(page)).to_contain_text("I declare the information is true")
    choose(page, "Yes")

    final = last_bot(page)
    expect(final).to_contain_text("Registered! Number BR-2026-000123.")
    expect(final.get_by_role("link")).to_have_attribute("href", "https://gw.bt/d/x")
    expect(final.get_by_role("button", name="Start again")).to_be_focused()
    screenshot(page, "chat-page-360x640", folder=SCREENSHOTS)
    screenshot(page, "chat-page-full", folder=SCREENSHOTS, full_page=True)
    assert_accessible(page, "/chat at the end, the registration done")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll

    sent = [p["text"] for p in live.posted]
    assert sent == [
        *("", "2", "11501001234", "17123456", code),
        *("Druk Bakery", "1", "6", "14", "17123456", "1", "1"),
    ]
    assert {p["user"] for p in live.posted} == {user}
    ids = [p["id"] for p in live.posted]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    assert len(live.effects.submissions) == 1

    choose(page, "Start again")
    expect(last_bot(page)).to_contain_text("Government services. Choose one:")
    page.reload()  # the same citizen after a reload
    expect(page.locator("#log li.bot")).to_have_count(1)
    expect(last_bot(page)).to_contain_text("Government services. Choose one:")
    assert page.evaluate("localStorage.getItem('gw-chat-user')") == user


def test_a_failed_send_shows_a_polite_error_and_the_retry_reuses_the_id(
    page: Page, live: Live
) -> None:
    failures: list[dict[str, Any]] = []

    def flaky(route: Route) -> None:
        sent = body(route.request)
        if sent["text"] == "2" and not failures:
            failures.append(sent)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(API, flaky)
    page.set_viewport_size({"width": 320, "height": 568})  # the narrowest phones
    page.goto("/chat")
    choose(page, "Register a business")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("could not reach the service")
    expect(page.get_by_role("button", name="Try again")).to_be_focused()
    expect(page.get_by_label("Your answer")).to_be_enabled()
    screenshot(page, "chat-page-error-320", folder=SCREENSHOTS)
    assert_accessible(page, "/chat showing a failed send, 320 px wide")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    page.get_by_role("button", name="Try again").click()
    expect(last_bot(page)).to_have_text("Enter your citizenship ID (11 digits)")
    expect(alert).to_be_hidden()
    twos = [p for p in live.posted if p["text"] == "2"]
    assert len(twos) == 2
    assert twos[0]["id"] == twos[1]["id"] == failures[0]["id"]


def test_input_is_disabled_while_a_request_is_in_flight(page: Page, live: Live) -> None:
    held: list[Route] = []

    def hold(route: Route) -> None:
        if body(route.request)["text"] == "2":
            held.append(route)
        else:
            route.continue_()

    page.route(API, hold)
    page.goto("/chat")
    choose(page, "Register a business")
    page.wait_for_function("document.getElementById('answer').disabled")
    assert len(held) == 1
    expect(page.get_by_label("Your answer")).to_be_disabled()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    expect(page.get_by_role("button", name="Drone flight permit")).to_be_disabled()
    expect(page.get_by_role("status")).to_have_text("Sending…")
    page.get_by_role("button", name="Drone flight permit").click(force=True)  # ignored
    held[0].continue_()
    expect(last_bot(page)).to_have_text("Enter your citizenship ID (11 digits)")
    expect(page.get_by_label("Your answer")).to_be_enabled()
    assert [p["text"] for p in live.posted] == ["", "2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Enter the check code printed on the document"),
        ("?code=WRONG-CODE", "No document matches this reference and check code."),
    ],
    ids=["asking-for-the-code", "wrong-code"],
)
def test_the_verify_page_is_accessible(page: Page, query: str, message: str) -> None:
    page.goto(f"/verify/BR-2026-000123{query}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a document")
    expect(page.get_by_text(message)).to_be_visible()
    expect(page.get_by_label("Check code of BR-2026-000123")).to_be_visible()
    screenshot(page, f"verify-page-{'wrong-code' if query else 'form'}", folder=SCREENSHOTS)
    assert_accessible(page, f"/verify/BR-2026-000123{query}")
