"""Browser tests of the server-rendered pages (/chat, /verify, the civil servants' /console):
an app served by uvicorn in a thread, Debian's Chromium driven by Playwright, accessibility
checked by axe-core, screenshots for the docs.

    from tests.browser import ROOT, assert_accessible, opened_page, screenshot, served
    from tests.browser import browser as browser  # the fixture

    def test_the_sign_in_page_is_accessible(browser: Browser, settings: Settings) -> None:
        with served(create_app(settings)) as url, opened_page(browser, url) as page:
            page.goto("/console")
            assert_accessible(page, "/console, signed out")
            screenshot(page, "sign-in", folder=ROOT / "docs" / "console")

`browser` is a module-scoped fixture: import it into the test module (`browser as
browser`: an explicit re-export, so ruff sees it used) or the folder's conftest.py; its
name is one of tests/conftest.py's SERVICE_FIXTURES, so the tests using it are marked
`integration`.

Nothing here skips: without Chromium (`make browser`) or axe-core (`make axe`, npm ci from
package.json at the repository root) the tests FAIL, on CI (`CI=true`) as on a laptop.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from tests.state import missing

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
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
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe has no `wcag22a` tag: 2.2 added AA rules only).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
BLOCKING = frozenset({"serious", "critical"})  # the impacts that fail a test
START_TIMEOUT = 15.0
# Where `screenshot` writes by default; the console's tests pass ROOT / "docs" / "console".
SCREENSHOTS = Path(tempfile.gettempdir())


# --- the app ------------------------------------------------------------------------------


@contextmanager
def served(app: FastAPI, *, timeout: float = START_TIMEOUT) -> Iterator[str]:
    """`app` served by uvicorn (its lifespan run) in a thread on a free loopback port:
    yields its base URL, "http://127.0.0.1:<port>", and stops it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", loop="asyncio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            assert thread.is_alive(), "the app did not start"
            assert time.monotonic() < deadline, f"the app did not start in {timeout:g} s"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


# --- the browser --------------------------------------------------------------------------


def chromium_path() -> str:
    """Debian's chromium: Playwright never downloads a browser here."""
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():  # `make test` installs it; a missing browser is a failure
        missing("Debian's chromium (`make browser`, or apt-get install chromium)")
    return found


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Headless Chromium, driven by Playwright."""
    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, launched once per test module."""
    with launched_chromium() as launched:
        yield launched


@contextmanager
def opened_page(
    browser: Browser,
    base_url: str,
    *,
    width: int = 360,
    height: int = 640,
    timeout_ms: float = 10_000,
    bypass_csp: bool = False,
) -> Iterator[Page]:
    """A page of a fresh context (no cookies, no storage), its viewport a phone's by
    default, relative URLs (`page.goto("/chat")`) resolved against `base_url`.

    The page's content security policy stays in force (`bypass_csp=False`): the test sees
    the page as a citizen's browser does, and a page broken by its own CSP fails.
    `assert_accessible` works under it. `bypass_csp=True` is acceptable in a test that
    must inject a <script> element itself (`page.add_script_tag`, which the pages' strict
    CSP refuses), at the cost of no longer noticing what the CSP blocks."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=base_url, bypass_csp=bypass_csp
    )
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        yield page
    finally:
        context.close()


# --- accessibility ------------------------------------------------------------------------


@cache
def axe_source() -> str:
    """axe.min.js, as `make axe` installs it (npm ci, the version package-lock.json pins)."""
    if not AXE_JS.is_file():
        missing(
            f"axe-core ({AXE_JS.relative_to(ROOT)}: run `make axe`, which runs `npm ci` "
            "at the repository root)"
        )
    return AXE_JS.read_text(encoding="utf-8")


def _inject_axe(page: Page) -> None:
    """Loads axe into the page's document, once per document.

    `page.add_script_tag(content=...)` inserts an inline <script>, which the pages' CSP
    (`default-src 'none'; script-src 'self'`, or no script at all on /verify) refuses,
    saying so in the console. The source is evaluated through the DevTools protocol
    instead (`page.evaluate`), which the page's CSP does not govern: axe runs on the page
    with its real CSP in force, and leaves no CSP violation in the console behind."""
    if page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        return
    # A script, not a function: evaluated as a global script, its `var axe` a global.
    page.evaluate(axe_source())
    if not page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        pytest.fail(f"axe-core did not load into {page.url}", pytrace=False)


def _targets(node: dict[str, Any]) -> str:
    """A node's selector; ">>>" between the parts of a selector into a frame or shadow DOM."""
    parts = [
        " >>> ".join(part) if isinstance(part, list) else str(part)
        for part in node.get("target", [])
    ]
    return ", ".join(parts) or "(no selector)"


def _one_line(text: Any, limit: int = 0) -> str:
    line = " ".join(str(text or "").split())
    return line[:limit] + "…" if limit and len(line) > limit else line


def describe(violations: list[dict[str, Any]]) -> str:
    """axe's violations as lines a person reads: the rule, its impact and help, the page
    explaining it, why it failed (once when every element failed alike), each element."""
    lines: list[str] = []
    for violation in violations:
        nodes = violation.get("nodes", [])
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')}")
        lines.append(f"    {violation.get('helpUrl', '')}")
        summaries = {_one_line(node.get("failureSummary")) for node in nodes}
        shared = len(summaries) == 1
        if shared and (summary := summaries.pop()):
            lines.append(f"    {summary}")
        lines.append(f"    {len(nodes)} element(s):")
        for node in nodes:
            lines.append(f"      {_targets(node)}  {_one_line(node.get('html'), 100)}")
            if not shared and (summary := _one_line(node.get("failureSummary"))):
                lines.append(f"        {summary}")
    return "\n".join(lines)


def assert_accessible(
    page: Page, context: str, *, impacts: frozenset[str] = BLOCKING
) -> list[dict[str, Any]]:
    """Runs axe-core on `page` as it is now (WCAG 2.x, levels A and AA) and fails the test,
    listing them, if any violation's impact is in `impacts` (serious or critical).

    `context` says when: "/chat after three answers". Returns every violation found, the
    moderate and minor ones included, for a test that wants to look at them."""
    _inject_axe(page)
    results = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return {version: axe.version, violations: results.violations};
        }""",
        list(WCAG_TAGS),
    )
    violations: list[dict[str, Any]] = results["violations"]
    blocking = [v for v in violations if v.get("impact") in impacts]
    if blocking:
        pytest.fail(
            f"{context} ({page.url}): {len(blocking)} accessibility violation(s) of impact "
            f"{' or '.join(sorted(impacts))} (axe-core {results['version']}, "
            f"WCAG 2.x A/AA):\n{describe(blocking)}",
            pytrace=False,
        )
    return violations


# --- screenshots --------------------------------------------------------------------------


def screenshot(
    page: Page, name: str, *, folder: Path = SCREENSHOTS, full_page: bool = False
) -> Path:
    """Saves the page as `<folder>/<name>.png` (the folder made if need be): docs/console/
    for the console's pictures. Animations are stopped for the shot, so a page pictured
    twice gives the same image."""
    path = folder / (name if name.endswith(".png") else f"{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path
