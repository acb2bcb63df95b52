"""The console in a real browser, as civil servants use it: the first administrator adds
an officer, a citizen applies for a drone permit over USSD, the officer returns it for
correction, the citizen corrects it by dialling again, the officer approves it, the
citizen receives the permit's link by SMS (Africa's Talking, faked on loopback), and the
administrator reads it all in the audit log.

The gateway is served by uvicorn on a loopback port (tests/browser.py) with real Redis (a
leased database), SQLite in a new folder, the shipped services and the in-process worker;
Debian's Chromium is driven by Playwright. Sign-in and the return form are used with the
keyboard alone; axe-core checks every page visited (WCAG 2.x A/AA); the queue and an
application are read at 640 px wide (1280 px at 200% zoom) without sideways scrolling;
the pictures of docs/console.md are taken on the way (docs/console/NN-name.png).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.access import Grant, Role
from state.accounts import AccountStore
from state.audit import Action, AuditLog
from state.database import Database, database_url
from tests.browser import ROOT, assert_accessible, opened_page, screenshot, served
from tests.browser import browser as browser  # the fixture: Chromium, once per module
from tests.gateway.console.desk_app import (
    CITIZEN,
    DRONE_ANSWERS,
    PASSWORD,
    cheap_hasher,
    console_settings,
    dial_served,
    in_days,
)
from tests.gateway.fake_providers import FakeProvider, at_sent, serving
from tests.redis_databases import RedisDatabase

PICTURES = ROOT / "docs" / "console"
ADMINISTRATOR = "tashi@gov.bt"
OFFICER = "dorji@gov.bt"
OFFICER_PASSWORD = "first password for Dorji 2024"
LINKS = "https://gw.gov.bt"
LINK = re.compile(r"https://gw\.gov\.bt/d/([A-Za-z0-9_-]{22})")
REFERENCE = re.compile(r"DFA-\d{4}-\d{6}")
WIDE: ViewportSize = {"width": 1280, "height": 800}  # the pictures' size
ZOOMED: ViewportSize = {"width": 640, "height": 800}  # 1280 x 800 at 200% zoom
WAIT_MS = 15_000


# --- the running gateway ------------------------------------------------------------------


@dataclass
class Live:
    url: str
    settings: Settings
    sms: FakeProvider  # Africa's Talking: what the citizen's phone receives


def add_first_administrator(settings: Settings, email: str) -> None:
    """What `gateway users add EMAIL --role administrator` does on a fresh install: the
    database migrated, the account added, the addition in the audit log."""

    async def add() -> None:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()
            accounts = AccountStore(database, cheap_hasher())
            account = await accounts.add(email, PASSWORD, [Grant(Role.ADMINISTRATOR)])
            await AuditLog(database).record(
                "cli:root", Action.ACCOUNT_CREATED, account.email, {"role": "administrator"}
            )
        finally:
            await database.close()

    # In a thread of its own: Playwright's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, add()).result()


@contextmanager
def live_gateway(database: RedisDatabase) -> Iterator[Live]:
    with serving(FakeProvider(at_sent)) as sms:
        settings = console_settings(
            database,
            link_url=LINKS,
            at_api_key="atsk_test_0123456789abcdef",
            at_sms_url=sms.url + "/version1/messaging",
            worker_in_process=True,
            worker_poll_seconds=0.05,
            send_retry_seconds=0.1,
            pdf_processes=1,
        )
        add_first_administrator(settings, ADMINISTRATOR)
        app = create_app(settings)
        with served(app) as url:
            Runtime.of(app).accounts.hasher = cheap_hasher()  # for the officer's account
            yield Live(url, settings, sms)


@pytest.fixture
def live(redis_database: RedisDatabase) -> Iterator[Live]:
    with live_gateway(redis_database) as running:
        yield running


# --- the citizen --------------------------------------------------------------------------


def sms_saying(live: Live, needle: str, timeout: float = 20.0) -> str:
    """The first SMS to the citizen containing `needle`, waiting for the worker to send it."""
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        forms = live.sms.forms()
        for form in forms[seen:]:
            if form.get("to") == CITIZEN and needle in form.get("message", ""):
                return form["message"]
        seen = len(forms)
        try:
            live.sms.wait_for(seen + 1, timeout=max(0.0, deadline - time.monotonic()))
        except AssertionError:
            texts = [form.get("message") for form in live.sms.forms()]
            raise AssertionError(f"no SMS says {needle!r}: {texts}") from None


# --- the keyboard -------------------------------------------------------------------------


def tab_to(page: Page, target: Locator, presses: int = 60) -> None:
    """Press Tab until `target` has the focus (it may have it already)."""
    target.wait_for()
    for _ in range(presses):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{presses} presses of Tab did not reach {target}", pytrace=False)


def assert_focus_visible(page: Page) -> None:
    """The focused element shows it: :focus-visible applies and draws an outline."""
    focus = page.evaluate(
        """() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            return {
                visible: element.matches(":focus-visible"),
                style: style.outlineStyle,
                width: parseFloat(style.outlineWidth),
                what: element.outerHTML.slice(0, 80),
            };
        }"""
    )
    assert focus["visible"], focus
    assert focus["style"] != "none", focus
    assert focus["width"] >= 2, focus


def sign_in(page: Page, email: str, password: str) -> None:
    """At the sign-in page: Tab to the fields, type, Enter on the button."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    tab_to(page, page.get_by_label("Email", exact=True))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


@contextmanager
def desk(browser: Browser, live: Live) -> Iterator[Page]:
    """A browser of one person's own (no cookies shared), at 1280 x 800."""
    with opened_page(
        browser, live.url, width=WIDE["width"], height=WIDE["height"], timeout_ms=WAIT_MS
    ) as page:
        yield page


def at_200_percent(page: Page, context: str) -> None:
    """The page as 1280 x 800 at 200% zoom lays it out (640 x 800): read without
    scrolling the document sideways (a wide table scrolls in its own region), and
    accessible; then back to 1280 x 800."""
    page.set_viewport_size(ZOOMED)
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"] + 1, f"{context} at 200% zoom: {widths}"
    assert_accessible(page, f"{context} at 200% zoom (640 x 800)")
    page.set_viewport_size(WIDE)


def status_of(page: Page) -> Locator:
    return page.locator("#status")


# --- the scenario -------------------------------------------------------------------------


def test_an_application_returned_corrected_and_approved_in_the_console(
    browser: Browser, live: Live
) -> None:
    # 1. The first administrator adds an officer for the drone permits.
    with desk(browser, live) as admin:
        admin.goto("/console/people")  # not signed in: to the sign-in page, then back
        expect(admin).to_have_url(re.compile(r"/console\?next=/console/people$"))
        assert_accessible(admin, "/console, the sign-in page")
        screenshot(admin, "01-sign-in", folder=PICTURES)
        sign_in(admin, ADMINISTRATOR, PASSWORD)
        expect(admin).to_have_url(re.compile(r"/console/people$"))
        expect(admin.get_by_role("heading", level=1)).to_have_text("People")
        assert_accessible(admin, "/console/people, one administrator")
        form = admin.locator("form[action='/console/people/accounts']")
        form.get_by_label("Email").fill(OFFICER)
        form.get_by_label("First password").fill(OFFICER_PASSWORD)
        form.get_by_label("Role").select_option("officer")
        form.get_by_label("Service").select_option("drone-flight-authorization")
        form.get_by_role("button", name="Add account").click()
        expect(admin.get_by_role("status")).to_have_text(
            "Account added. Give the person their first password."
        )
        added = admin.get_by_role("region", name=OFFICER)
        expect(added).to_contain_text("officer (drone-flight-authorization)")
        assert_accessible(admin, "/console/people after adding an officer")
        screenshot(admin, "06-people", folder=PICTURES)
        at_200_percent(admin, "/console/people")
        sign_out(admin)

    # 2. A citizen applies for a drone permit over USSD.
    answers = [*DRONE_ANSWERS, in_days(5), in_days(7), "100", "1", "1"]
    screen = dial_served(live.url, "ATU-1", answers)
    found = REFERENCE.search(screen)
    assert found is not None, screen
    reference = found.group(0)

    # 3. The officer finds it in the queue and returns it for correction.
    with desk(browser, live) as officer:
        officer.goto("/console")
        sign_in(officer, OFFICER, OFFICER_PASSWORD)
        expect(officer).to_have_url(re.compile(r"/console/applications$"))
        expect(officer.get_by_role("heading", level=1)).to_have_text("Applications")
        expect(officer.get_by_role("table")).to_contain_text("1 application")
        link = officer.get_by_role("link", name=reference)
        expect(link).to_be_visible()
        assert_accessible(officer, "/console/applications, one application")
        screenshot(officer, "02-queue", folder=PICTURES)
        at_200_percent(officer, "/console/applications")

        link.click()
        expect(officer.get_by_role("heading", level=1)).to_have_text(f"Application {reference}")
        expect(status_of(officer)).to_have_text("submitted")
        expect(officer.get_by_role("table").first).to_contain_text("DJI Mavic 3")
        assert_accessible(officer, f"/console/applications/{reference}, submitted")
        screenshot(officer, "03-application", folder=PICTURES)
        at_200_percent(officer, f"/console/applications/{reference}")

        # The return form, keyboard only: Tab, Space to tick, type, Enter on the button.
        drone = officer.get_by_role("checkbox", name="Drone", exact=True)
        tab_to(officer, drone)
        assert_focus_visible(officer)
        officer.keyboard.press("Space")
        expect(drone).to_be_checked()
        note = officer.get_by_label("Note to the citizen")
        tab_to(officer, note)
        officer.keyboard.type("Give the model as printed on the drone.")
        officer.keyboard.press("Tab")
        send = officer.get_by_role("button", name="Return for correction")
        expect(send).to_be_focused()
        assert_focus_visible(officer)
        assert_accessible(officer, "the return form filled in")
        screenshot(officer, "04-return-form", folder=PICTURES)
        officer.keyboard.press("Enter")
        expect(status_of(officer)).to_have_text("returned")
        expect(officer.get_by_role("status")).to_have_text(
            "Returned for correction. The citizen is being told what to correct."
        )
        expect(officer.locator("ol.timeline")).to_contain_text(
            f"returned for correction by {OFFICER}"
        )
        assert_accessible(officer, f"/console/applications/{reference}, returned")

        # 4. The citizen dials again: straight to the drone model, then confirms.
        told = sms_saying(live, "needs a correction")
        assert told == (
            f"Your application {reference} needs a correction: Give the model as printed "
            "on the drone. Dial or reply to correct it."
        )
        first = dial_served(live.url, "ATU-2", [])
        assert f"Please correct application {reference}" in first, first
        assert "Drone make and model" in first, first
        summary = dial_served(live.url, "ATU-2", ["DJI Mini 4 Pro"])
        assert "DJI Mini 4 Pro" in summary, summary
        done = dial_served(live.url, "ATU-2", ["DJI Mini 4 Pro", "1", "1"])
        assert reference in done, done

        # 5. The officer opens it again and approves it.
        officer.goto(f"/console/applications/{reference}")
        expect(status_of(officer)).to_have_text("submitted")
        timeline = officer.locator("ol.timeline")
        expect(timeline).to_contain_text("corrected by the citizen")
        expect(officer.get_by_role("table").first).to_contain_text("DJI Mini 4 Pro")
        assert_accessible(officer, f"/console/applications/{reference}, corrected")
        officer.get_by_role("button", name="Approve").click()
        expect(status_of(officer)).to_have_text("approved")
        expect(officer.get_by_role("status")).to_have_text("Approved. The citizen is being told.")
        expect(timeline).to_contain_text(f"approved by {OFFICER}")
        assert_accessible(officer, f"/console/applications/{reference}, approved")
        screenshot(officer, "05-application-approved", folder=PICTURES)

        # 6. The worker sends the citizen the permit's link; behind it, a PDF.
        message = sms_saying(live, f"Your application {reference} is approved.")
        assert message.startswith(
            f"Your application {reference} is approved. Drone Flight Authorization:"
        ), message
        permit = LINK.search(message)
        assert permit is not None, message
        pdf = officer.request.get(f"/d/{permit.group(1)}")
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")
        officer.get_by_role("link", name="My account").click()
        expect(officer.get_by_role("heading", level=1)).to_have_text("My account")
        assert_accessible(officer, "/console/account, an officer")
        sign_out(officer)

    # 7. The administrator reads the audit log, the figures and their account.
    with desk(browser, live) as admin:
        admin.goto("/console/audit")
        sign_in(admin, ADMINISTRATOR, PASSWORD)
        expect(admin.get_by_role("heading", level=1)).to_have_text("Audit log")
        rows = admin.get_by_role("row")
        for who, action, on, times in [
            ("cli:root", "account_created", ADMINISTRATOR, 1),
            (ADMINISTRATOR, "sign_in", ADMINISTRATOR, 2),  # then, and now
            (ADMINISTRATOR, "account_created", OFFICER, 1),
            (ADMINISTRATOR, "sign_out", ADMINISTRATOR, 1),
            (OFFICER, "sign_in", OFFICER, 1),
            (OFFICER, "returned", reference, 1),
            (OFFICER, "approved", reference, 1),
            (OFFICER, "sign_out", OFFICER, 1),
        ]:
            row = rows.filter(has=admin.get_by_role("cell", name=action, exact=True))
            row = row.filter(has=admin.get_by_role("cell", name=who, exact=True))
            row = row.filter(has=admin.get_by_role("cell", name=on, exact=True))
            expect(row).to_have_count(times)
        assert_accessible(admin, "/console/audit")
        screenshot(admin, "07-audit-log", folder=PICTURES)
        at_200_percent(admin, "/console/audit")
        export = admin.request.get(
            admin.get_by_role("link", name="CSV").get_attribute("href") or ""
        )
        assert export.status == 200
        assert export.headers["content-type"] == "text/csv; charset=utf-8"
        assert f"approved,{reference}" in export.text()

        admin.get_by_role("link", name="Figures").click()
        expect(admin.get_by_role("heading", level=1)).to_have_text("Figures")
        expect(admin.get_by_role("table").first).to_contain_text("Drone flight permit")
        assert_accessible(admin, "/console/figures")
        screenshot(admin, "08-figures", folder=PICTURES)
        at_200_percent(admin, "/console/figures")

        admin.get_by_role("link", name="My account").click()
        expect(admin.get_by_role("heading", level=1)).to_have_text("My account")
        assert_accessible(admin, "/console/account, an administrator")
