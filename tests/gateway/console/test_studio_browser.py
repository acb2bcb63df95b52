"""The studio in a real browser, as an author and a publisher use it: the author starts a
blank service, adds a question through the form, sees its USSD size in the preview,
saves, sees the checker's diagnostic, follows it to its field and fixes it, switches to
the source view and back, and sends the draft for review; the publisher opens the review
page.

The gateway is served as in test_console_browser.py (uvicorn on loopback, real Redis,
SQLite in a new folder, the shipped services); the pages' script talks to the studio's
JSON API with the console session and its CSRF token, under the pages' own CSP (a CSP
violation fails the test). axe-core checks every page visited; the pictures go to
docs/studio/.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser import assert_accessible, screenshot
from tests.browser import browser as browser  # the fixture: Chromium, once per module
from tests.gateway.console.desk_app import PASSWORD
from tests.gateway.console.studio_browser import AUTHOR, PICTURES, PUBLISHER, open_step, person
from tests.gateway.console.studio_browser import live as live  # the fixture
from tests.gateway.console.test_console_browser import at_200_percent, sign_in, tab_to

SERVICE = "fishing-licence"


def test_an_author_writes_a_service_and_sends_it_for_review(browser: Browser, live: str) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        # The studio's list, from the menu.
        page.get_by_role("link", name="Studio", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Studio")
        expect(page.get_by_role("row", name=re.compile("business-registration"))).to_be_visible()
        assert_accessible(page, "/console/studio")
        at_200_percent(page, "/console/studio")
        screenshot(page, "01-list", folder=PICTURES, full_page=True)

        # A blank service, started with the keyboard.
        tab_to(page, page.get_by_label("Service id"))
        page.keyboard.type(SERVICE)
        page.keyboard.press("Tab")
        page.keyboard.type("Fishing licence")
        page.get_by_label("Start from").select_option("blank")
        tab_to(page, page.get_by_role("button", name="Start", exact=True))
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(f"/console/studio/{SERVICE}$"))
        expect(page.locator("#draft-status")).to_contain_text("Revision 1")
        at_200_percent(page, "the editor")

        # A question added through the form.
        page.get_by_label("Step type").select_option("text")
        page.get_by_label("Step id (the answer's name)").fill("boat_name")
        page.get_by_role("button", name="Add step").click()
        expect(page.locator("#announce")).to_have_text(re.compile("Step boat_name added"))
        step = page.locator("#step-boat_name")
        expect(step.get_by_label("Prompt: en")).to_be_focused()
        page.keyboard.type("What is the name of your boat?")
        expect(page.locator("#preview-screen")).to_contain_text("What is the name of your boat?")
        expect(page.locator("#preview-screen .count").first).to_have_text(
            re.compile(r"^\d+/182 characters")
        )

        # Move the step up and down again with the keyboard (the blank service has a
        # question and an end; the new step went before the end).
        expect(page.get_by_role("button", name="Move down: boat_name")).to_be_enabled()
        page.get_by_role("button", name="Move up: boat_name").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#announce")).to_have_text("boat_name moved to position 1 of 3")
        expect(page.get_by_role("button", name="Move up: boat_name")).to_be_disabled()
        page.get_by_role("button", name="Move down: boat_name").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#announce")).to_have_text("boat_name moved to position 2 of 3")
        expect(page.get_by_role("button", name="Move down: boat_name")).to_be_focused()

        # And by drag and drop with the mouse.
        page.locator("#step-boat_name .step-head").drag_to(page.locator("#step-applicant_name"))
        expect(page.locator("#announce")).to_have_text("boat_name moved to position 1 of 3")
        page.locator("#step-applicant_name .step-head").drag_to(page.locator("#step-boat_name"))
        expect(page.locator("#announce")).to_have_text("applicant_name moved to position 1 of 3")

        # A contradiction the checker finds once saved.
        step = page.locator("#step-boat_name")
        step.locator("summary", has_text="More fields").click()
        step.get_by_label("Min Length").fill("5")
        step.get_by_label("Max Length").fill("2")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#announce")).to_have_text("Saved: revision 2")
        diagnostic = page.locator("#diagnostics-list button", has_text="E301")
        expect(diagnostic).to_be_visible()
        assert_accessible(page, "the editor with a diagnostic")
        screenshot(page, "02-editor", folder=PICTURES)

        # The diagnostic leads to its field; fixing it clears the list.
        diagnostic.click()
        expect(step.get_by_label("Min Length")).to_be_focused()
        page.keyboard.press("Control+A")
        page.keyboard.type("1")
        expect(page.locator("#diagnostics-summary")).to_have_text("No problems found.")

        # The source view, and back.
        page.get_by_role("button", name="Source (YAML)").click()
        expect(page.locator("#source-view .cm-content")).to_contain_text("min_length: 1")
        # Completion from the schema: a key of the service at the end of the file.
        page.locator("#source-view .cm-content").click()
        page.keyboard.press("Control+End")
        page.keyboard.type("resu")
        page.keyboard.press("Control+Space")
        completion = page.locator(".cm-tooltip-autocomplete")
        expect(completion).to_contain_text("resume_minutes")
        assert_accessible(page, "the editor's source view, completing")
        screenshot(page, "03-source", folder=PICTURES)
        page.keyboard.press("Escape")
        page.keyboard.press("Control+z")
        expect(page.locator("#source-view .cm-content")).not_to_contain_text("resu")
        page.get_by_role("button", name="Form", exact=True).click()
        expect(step.get_by_label("Prompt: en")).to_have_value("What is the name of your boat?")

        # The simulator plays the saved draft as a citizen would.
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#announce")).to_have_text("Saved: revision 3")
        page.get_by_role("button", name="Start again").click()
        transcript = page.get_by_role("list", name="Transcript")
        expect(transcript).to_contain_text("Enter your full name")
        page.get_by_label("Answer", exact=True).fill("Pema Wangmo")
        page.keyboard.press("Enter")
        expect(transcript).to_contain_text("What is the name of your boat?")
        page.get_by_label("Test name").fill("the boat is asked for")
        page.get_by_role("button", name="Save as test").click()
        expect(page.locator("#announce")).to_have_text("Saved as the test the boat is asked for")
        expect(page.locator("#draft-status")).to_contain_text("Revision 4")
        page.get_by_role("button", name="Run tests").click()
        expect(page.locator("#tests-results")).to_contain_text("All tests passed.")

        # The diagram's boxes lead to their steps' forms.
        page.get_by_role("button", name="Draw the diagram").click()
        diagram = page.get_by_role("group", name="Diagram of the conversation")
        expect(diagram.get_by_role("link", name=re.compile("^Step done "))).to_have_count(1)
        box = page.locator("#diagram a[href='#step-done'], #diagram a[*|href='#step-done']")
        expect(box.first).to_be_attached()
        box.first.dispatch_event("click")
        expect(page.locator("#step-done details").first).to_have_attribute("open", "")

        # Someone else saves meanwhile: the conflict shows what they changed.
        token = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
        theirs = page.request.get(f"/api/v1/studio/services/{SERVICE}/draft").json()
        changed = theirs["source"].replace("Thank you.", "Thank you, fisher.")
        answer = page.request.put(
            f"/api/v1/studio/services/{SERVICE}/draft",
            data=changed,
            headers={
                "Content-Type": "application/yaml",
                "If-Match": f'"{theirs["revision"]}"',
                "X-CSRF-Token": token,
            },
        )
        assert answer.ok, answer.text()
        step.get_by_label("Prompt: en").fill("What is your boat called?")
        page.get_by_role("button", name="Save", exact=True).click()
        conflict = page.get_by_role("region", name="Someone else saved this draft")
        expect(conflict).to_contain_text("Thank you, fisher.")
        expect(page.get_by_role("button", name="Reload their version")).to_be_focused()
        assert_accessible(page, "the editor after a conflict")
        screenshot(page, "05-conflict", folder=PICTURES)
        page.keyboard.press("Enter")
        expect(conflict).to_be_hidden()
        expect(page.get_by_role("button", name="Save", exact=True)).to_be_focused()
        expect(step.get_by_label("Prompt: en")).to_have_value("What is the name of your boat?")
        expect(page.locator("#draft-status")).to_contain_text("Revision 5")

        # Sent for review (saved first).
        page.get_by_role("button", name="Submit for review").click()
        expect(page.locator("#announce")).to_have_text("Sent for review.")
        expect(page.locator("#draft-status")).to_contain_text("sent for review")
        assert problems == [], problems

    with person(browser, live, PUBLISHER) as (page, problems):
        page.goto("/console/studio")
        page.get_by_role("link", name=f"Review {SERVICE}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Review: {SERVICE}")
        expect(page.locator("#review-status")).to_contain_text("Draft revision")
        expect(page.locator("#review-diff li").first).to_be_visible()
        expect(page.locator("#rollback-note")).to_have_text("No earlier version to roll back to.")
        assert_accessible(page, "the review page")
        screenshot(page, "04-review", folder=PICTURES)
        page.get_by_label("Comment").fill("Clear questions; publish.")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.locator("#review-status")).to_have_text("Published as version 1.")
        expect(page.get_by_role("button", name="Publish", exact=True)).to_be_disabled()
        expect(page.get_by_role("button", name="Send back to the author")).to_be_disabled()
        page.goto("/console/studio")
        row = page.get_by_role("row", name=re.compile(SERVICE))
        expect(row.get_by_role("cell").first).to_have_text("1")
        assert problems == [], problems


FERRY = """\
format: 1
id: ferry-permit
version: 1
title: {en: Ferry permit, dz: ཕེ་རི}
languages: [en, dz]
steps:
  - id: kind
    type: choice
    prompt: {en: "Which boat?", dz: གྲུ་ག་ཅི}
    options:
      - {value: small, label: {en: Small}}
      - {value: large, label: {en: Large}}
  - id: insured
    type: yes_no
    prompt: {en: "Is it insured?", dz: ཉེན་སྲུང}
  - id: done
    type: end
    prompt: {en: Done., dz: ཚར}
"""


def open_ferry_draft(page: Page) -> None:
    """Saves FERRY as a draft through the API, with the page's session, and opens it."""
    page.goto("/console/studio")
    token = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
    made = page.request.put(
        "/api/v1/studio/services/ferry-permit/draft",
        data=FERRY,
        headers={"Content-Type": "application/yaml", "X-CSRF-Token": token},
    )
    assert made.ok, made.text()
    page.goto("/console/studio/ferry-permit")


def test_conditions_are_picked_from_the_answers(browser: Browser, live: str) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        open_ferry_draft(page)

        # Texts side by side; the options' missing Dzongkha is marked on the step.
        kind = page.locator("#step-kind")
        expect(kind.locator(".missing-count")).to_have_text("Missing translation: dz")
        insured = page.locator("#step-insured")
        insured.locator("summary", has_text="Fields of insured").click()
        expect(insured.get_by_label("Prompt: dz")).to_have_value("ཉེན་སྲུང")

        # A branch picked from an earlier answer and its values.
        insured.locator("summary", has_text="More fields").click()
        insured.get_by_label("Then go to").select_option(label="Depending on the answers…")
        insured.get_by_role("button", name="Add a branch").click()  # before "otherwise"
        branch = insured.get_by_role("group", name="Branch 1")
        branch.get_by_label("If the answer to").select_option("kind")
        expect(branch.get_by_label("Value")).to_have_text(re.compile("small.*large"))
        branch.get_by_label("Value").select_option("large")
        branch.get_by_label("Go to").select_option("done")
        branch.locator("summary", has_text="Advanced").click()
        expect(branch.get_by_label("Condition (expression)")).to_have_value(
            'answers.kind == "large"'
        )
        assert_accessible(page, "the editor with a branch")
        screenshot(page, "06-branch", folder=PICTURES)

        page.get_by_role("button", name="Source (YAML)").click()
        source = page.locator("#source-view .cm-content")
        expect(source).to_contain_text('answers.kind == "large"')
        expect(source).to_contain_text("{value: small, label: {en: Small}}")  # kept as written
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#announce")).to_have_text("Saved: revision 2")
        # The options' missing Dzongkha is the one warning left.
        expect(page.locator("#diagnostics-summary")).to_have_text("Errors: 0, warnings: 1")

        # An option moved with the keyboard: the focus stays on its Move buttons.
        page.get_by_role("button", name="Form", exact=True).click()
        kind = page.locator("#step-kind")
        open_step(kind)
        kind.get_by_role("button", name="Move down: Options 1").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#announce")).to_have_text("Options 1 moved to position 2 of 2")
        expect(kind.get_by_role("button", name="Move up: Options 2")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#announce")).to_have_text("Options 2 moved to position 1 of 2")
        expect(kind.get_by_role("button", name="Move down: Options 1")).to_be_focused()
        expect(kind.get_by_role("listitem", name="Options 1").get_by_label("Value")).to_have_value(
            "small"
        )
        assert problems == [], problems


def test_a_published_service_is_changed_from_its_running_version(
    browser: Browser, live: str
) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        page.goto("/console/studio")
        row = page.get_by_role("row", name=re.compile("business-registration"))
        expect(row.get_by_role("link", name="Edit business-registration")).to_have_count(0)
        row.get_by_role("link", name="Start a new version of business-registration").click()
        expect(page.locator("#draft-status")).to_contain_text("This service has no draft")
        start = page.get_by_role("button", name=re.compile(r"^Start a new version from version"))
        assert_accessible(page, "the editor of a published service without a draft")
        start.click()
        expect(page.locator("#draft-status")).to_contain_text("Revision 1")
        expect(start).to_have_count(0)
        expect(page.get_by_role("button", name="Save", exact=True)).to_be_focused()
        expect(page.locator(".step").first).to_be_visible()
        # The one refusal: the draft asked for before there was one.
        assert problems == [f"404 GET {live}/api/v1/studio/services/business-registration/draft"], (
            problems
        )


def test_an_ended_session_keeps_the_unsaved_text(browser: Browser, live: str) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        open_ferry_draft(page)
        insured = page.locator("#step-insured")
        open_step(insured)

        # The session ends (signed out elsewhere); the next check finds out.
        page.context.clear_cookies()
        insured.get_by_label("Prompt: en").fill("Is the ferry insured?")
        again = page.get_by_role("link", name="Your session ended: sign in again")
        expect(again).to_be_visible()
        expect(again).to_have_attribute("href", "/console?next=%2Fconsole%2Fstudio%2Fferry-permit")
        assert_accessible(page, "the editor once the session ended")

        # Signed in again, the kept text is offered back.
        again.click()
        sign_in(page, AUTHOR, PASSWORD)
        expect(page).to_have_url(re.compile("/console/studio/ferry-permit$"))
        page.get_by_role("button", name="Restore my changes").click()
        open_step(insured)
        expect(insured.get_by_label("Prompt: en")).to_have_value("Is the ferry insured?")
        expect(page.locator("#draft-status")).to_contain_text("unsaved changes")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#announce")).to_have_text("Saved: revision 2")
        # Only the refusals that ended the session.
        assert [one for one in problems if not one.startswith("401 ")] == [], problems


def test_a_step_unfolded_just_before_a_redraw_stays_unfolded(browser: Browser, live: str) -> None:
    with person(browser, live, AUTHOR) as (page, problems):
        open_ferry_draft(page)
        kind = page.locator("#step-kind")
        expect(kind.locator(":scope > details")).not_to_have_attribute("open", "")
        # Unfolded and an option moved in one task: the browser dispatches the fold's
        # toggle event only after it, as it can when a fast person (or a busy machine)
        # presses a key right after the click.
        page.evaluate(
            """() => {
                const step = document.querySelector("#step-kind");
                step.querySelector(":scope > details > summary").click();
                step.querySelector('[aria-label="Move down: Options 1"]').click();
            }"""
        )
        expect(page.locator("#announce")).to_have_text("Options 1 moved to position 2 of 2")
        expect(kind.locator(":scope > details")).to_have_attribute("open", "")
        expect(kind.get_by_role("button", name="Move up: Options 2")).to_be_visible()
        assert problems == [], problems
