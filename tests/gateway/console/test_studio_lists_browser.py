"""A shared list edited in the studio, in a real browser: an author of every service opens
the dzongkhags from the studio's list, adds an option with its English and Dzongkha
labels with the keyboard, moves it, saves, and sees it saved (revision 1, written in the
studio), in the page, in the API and back on the studio's list; then a list with a
problem is refused with the problem shown, and a save over someone else's shows what they
changed.

Served and signed in as in test_studio_browser.py (its `live` gateway and `person`): the
page's script errors, CSP refusals and unexpected HTTP errors fail the test; axe-core
checks each page.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.browser import assert_accessible
from tests.browser import browser as browser  # the fixture: Chromium, once per module
from tests.gateway.console.studio_browser import AUTHOR, person
from tests.gateway.console.studio_browser import live as live  # the fixture
from tests.gateway.console.test_console_browser import at_200_percent, tab_to

VALUE = "gelephu_thromde"
ENGLISH = "Gelephu Thromde"
DZONGKHA = "དགེ་ལེགས་ཕུག་ཁྲོམ་སྡེ་"


def test_an_author_adds_an_option_to_a_shared_list(browser: Browser, live: str) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        page.get_by_role("link", name="Studio", exact=True).click()
        lists = page.get_by_role("region", name="Shared lists")
        link = lists.get_by_role("link", name="Dzongkhags of Bhutan (20 options)")
        expect(link).to_be_visible()
        expect(lists).to_contain_text("from the services folder")
        assert_accessible(page, "/console/studio with its shared lists")
        link.click()

        expect(page).to_have_url(re.compile("/console/studio/lists/dzongkhags$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Shared list: dzongkhags")
        expect(page.get_by_role("status")).to_contain_text("From the services folder")
        expect(page.get_by_label("Title", exact=True)).to_have_value("Dzongkhags of Bhutan")
        table = page.get_by_role("table", name="Options")
        expect(table.locator("tbody tr")).to_have_count(20)
        expect(page.get_by_label("Value of option 1", exact=True)).to_have_value("bumthang")
        expect(page.get_by_label("Label in Dzongkha of option 1", exact=True)).to_have_value(
            "བུམ་ཐང་"
        )
        assert_accessible(page, "the dzongkhags' page")
        at_200_percent(page, "the dzongkhags' page")

        # A new option, with the keyboard (from the last option's last button, rather
        # than through the twenty rows): its value, then its labels.
        table.locator("tbody tr").last.get_by_role("button").last.focus()
        tab_to(page, page.get_by_role("button", name="Add an option"))
        page.keyboard.press("Enter")
        expect(page.get_by_label("Value of option 21", exact=True)).to_be_focused()
        page.keyboard.type(VALUE)
        page.keyboard.press("Tab")
        expect(page.get_by_label("Label in English of option 21", exact=True)).to_be_focused()
        page.keyboard.type(ENGLISH)
        page.keyboard.press("Tab")
        expect(page.get_by_label("Label in Dzongkha of option 21", exact=True)).to_be_focused()
        page.keyboard.type(DZONGKHA)

        # Up one place and down again; the focus stays on the moved option's button.
        tab_to(page, page.get_by_role("button", name=f"Move up: {VALUE}"))
        page.keyboard.press("Enter")
        expect(page.get_by_label("Value of option 20", exact=True)).to_have_value(VALUE)
        expect(page.get_by_role("button", name=f"Move down: {VALUE}")).to_be_enabled()
        page.get_by_role("button", name=f"Move down: {VALUE}").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_label("Value of option 21", exact=True)).to_have_value(VALUE)
        expect(page.get_by_role("button", name=f"Move up: {VALUE}")).to_be_focused()
        assert_accessible(page, "the dzongkhags' page with a new option")

        tab_to(page, page.get_by_role("button", name="Save", exact=True))
        page.keyboard.press("Enter")
        status = page.get_by_role("status")
        expect(status).to_contain_text("Saved: revision 1")
        expect(status).to_contain_text("Changed in the studio: revision 1")
        expect(page.get_by_label("Label in English of option 21", exact=True)).to_have_value(
            ENGLISH
        )
        expect(page.locator("#list-problems")).to_be_hidden()

        # As the API has it: written in the studio, revision 1, the new option's labels.
        saved = page.request.get(live + "/api/v1/studio/lists/dzongkhags").json()
        assert saved["origin"] == "studio", saved
        assert saved["revision"] == 1, saved
        assert saved["diagnostics"] == [], saved
        assert f"value: {VALUE}" in saved["source"], saved["source"]
        assert f"en: {ENGLISH}" in saved["source"], saved["source"]
        assert DZONGKHA in saved["source"], saved["source"]
        assert saved["source"].startswith("# The 20 dzongkhags"), saved["source"]

        # After a reload, and on the studio's list.
        page.reload()
        expect(page.get_by_role("status")).to_contain_text("Changed in the studio: revision 1")
        expect(page.get_by_label("Value of option 21", exact=True)).to_have_value(VALUE)
        page.get_by_role("link", name="Back to the studio").click()
        lists = page.get_by_role("region", name="Shared lists")
        expect(lists.get_by_role("link", name="Dzongkhags of Bhutan (21 options)")).to_be_visible()
        expect(lists).to_contain_text("changed in the studio, revision 1")
        assert problems == [], problems


def test_a_problem_and_a_conflict_are_shown(browser: Browser, live: str) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        page.goto("/console/studio/lists/dzongkhags")
        expect(page.get_by_role("status")).to_contain_text("From the services folder")

        # An option without a value: refused, the problem listed, nothing saved.
        page.get_by_label("Value of option 2", exact=True).fill("")
        page.get_by_role("button", name="Save", exact=True).press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Not saved: the list has problems")
        found = page.get_by_role("region", name="Problems")
        expect(found).to_contain_text("line 5")
        expect(page.get_by_role("heading", name="Problems")).to_be_focused()
        assert_accessible(page, "the dzongkhags' page with a problem")
        page.get_by_label("Value of option 2", exact=True).fill("chhukha")
        page.get_by_role("button", name="Save", exact=True).press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Saved: revision 1")
        expect(found).to_be_hidden()

        # Someone else saves revision 2 (without Gasa) meanwhile; this page's save is
        # refused, says what theirs changed, and reloads theirs.
        source = page.request.get(live + "/api/v1/studio/lists/dzongkhags").json()["source"]
        theirs = "\n".join(line for line in source.split("\n") if "value: gasa" not in line)
        csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
        answer = page.request.put(
            live + "/api/v1/studio/lists/dzongkhags",
            data=theirs,
            headers={
                "Content-Type": "application/yaml",
                "If-Match": '"1"',
                "X-CSRF-Token": csrf,
            },
        )
        assert answer.status == 200, answer.text()
        page.get_by_label("Title", exact=True).fill("Dzongkhags")
        page.get_by_role("button", name="Save", exact=True).press("Enter")
        expect(page.get_by_role("status")).to_contain_text("someone saved revision 2")
        changed = page.get_by_role("region", name="Changed meanwhile")
        expect(changed).to_contain_text("Only in yours: gasa")
        expect(changed).to_contain_text("Title: theirs Dzongkhags of Bhutan, yours Dzongkhags")
        assert_accessible(page, "the dzongkhags' page after a conflict")
        changed.get_by_role("button", name="Reload their version").press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Reloaded: revision 2")
        expect(page.get_by_label("Title", exact=True)).to_have_value("Dzongkhags of Bhutan")
        expect(page.get_by_role("table", name="Options").locator("tbody tr")).to_have_count(19)
        expect(changed).to_be_hidden()
        # The refusals the test made (422, 409) are expected; nothing else went wrong.
        assert [p for p in problems if "/api/v1/studio/lists/" not in p] == [], problems
