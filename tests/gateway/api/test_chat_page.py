"""The web chat page at /chat: served right, small, self-contained, and a whole business
registration completed in real headless Chromium (Debian's `chromium`, driven by Playwright),
the citizen proving their number with the code their phone receives.

The browser tests run the gateway with uvicorn in a thread on a free loopback port, on the
real Redis (a database leased to each test), with the census lookup and the submission
store faked and the verification SMS delivered to a fake phone. Without Chromium they fail
(`make test` installs it).
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from dialogs.messages import Reply
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.security.verification import CodeVerifier
from gateway.settings import Settings
from tests.gateway.providers.apps import Effects
from tests.redis_databases import RedisDatabase
from tests.state import missing

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "gateway" / "static"
API = "**/channels/web/messages"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/chat-page-360x640.png")


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


def chromium() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():  # `make test` installs it; a missing browser is a failure
        missing("Debian's chromium (apt-get install chromium)")
    return found


@contextmanager
def live_gateway(settings: Settings) -> Iterator[Live]:
    """The gateway served by uvicorn in a thread on a free loopback port, the census
    lookup and the submission store faked."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", loop="asyncio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the gateway did not start"
        assert time.monotonic() < deadline, "the gateway did not start in 15 s"
        time.sleep(0.02)
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
    try:
        yield Live(f"http://127.0.0.1:{port}", effects, phone)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def live(redis_database: RedisDatabase) -> Iterator[Live]:
    with live_gateway(settings(redis_database)) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live: Live, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 640}, base_url=live.url)
    opened = context.new_page()
    opened.set_default_timeout(10_000)

    def record(request: Request) -> None:
        if request.url.endswith("/channels/web/messages"):
            live.posted.append(body(request))

    opened.on("request", record)
    try:
        yield opened
    finally:
        context.close()


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
    log = page.locator("#log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    user = page.evaluate("localStorage.getItem('gw-chat-user')")
    assert isinstance(user, str)
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", user)

    choose(page, "Register a business")
    expect(page.locator("#log li.me").last).to_have_text("Register a business")
    expect(last_bot(page)).to_have_text("Enter your citizenship ID (11 digits)")
    expect(page.locator(".opts")).to_have_count(0)  # answered options are gone
    answer(page, "11501001234")
    expect(last_bot(page)).to_have_text(
        "To continue, enter your mobile number. We will send it a 6-digit code by SMS."
    )
    answer(page, "17123456")
    expect(last_bot(page)).to_contain_text("Enter the 6-digit code we sent to +97517123456.")
    expect(page.get_by_role("button", name="Send a new code")).to_be_focused()
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
    page.screenshot(path=str(SCREENSHOT.with_name("chat-page-options.png")))
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
    page.screenshot(path=str(SCREENSHOT))
    page.screenshot(path=str(SCREENSHOT.with_name("chat-page-full.png")), full_page=True)
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
    page.screenshot(path=str(SCREENSHOT.with_name("chat-page-error-320.png")))
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
