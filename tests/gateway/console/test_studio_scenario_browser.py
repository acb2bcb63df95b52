"""The studio's acceptance scenario in a real browser, as people use the pages (mouse and
keyboard; no source view, no API call but to make the accounts):

1. an author builds a construction permit from a blank page, step by step through the
   form (a shared list, checks and their messages, branches picked from the answers, a
   summary, a declaration, a submission an officer reviews), looks at the preview, plays
   it to the end in the simulator on USSD, keeps that as a test, runs the tests and sends
   the draft for review;
2. a publisher reads the changes in words and publishes it;
3. a citizen applies over the USSD callback (as Africa's Talking posts it), from the main
   menu to the reference;
4. an officer of the service approves the application at the console's desk.

The same scenario through the API alone is tests/gateway/api/test_studio_scenario.py;
the service built here is tests/gateway/studio/permit/construction-permit.yaml. axe-core
checks every state of every page visited; the pictures go to docs/studio/ (docs/studio.md
shows them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Locator, Page, expect

from dialogs.loader import load_text, read_list
from gateway.runtime import Runtime
from state.access import Grant, Role
from tests.browser import ROOT, assert_accessible, screenshot
from tests.browser import browser as browser  # the fixture: Chromium, once per module
from tests.gateway.console.desk_app import dial_served, in_days
from tests.gateway.console.studio_browser import (
    AUTHOR,
    PICTURES,
    PUBLISHER,
    WAIT_MS,
    add_step,
    announced,
    more_fields,
    open_step,
    person,
    studio_gateway,
    write,
)
from tests.gateway.console.test_console_browser import at_200_percent
from tests.redis_databases import RedisDatabase

OFFICER = "dorji@gov.bt"
SERVICE = "construction-permit"
MAIN_MENU = "*384#"  # a code the settings give no service: the main menu
CITIZEN = "+97517654321"
PERMIT = Path(__file__).parents[1] / "studio" / "permit" / f"{SERVICE}.yaml"
REFERENCE = re.compile(r"CP-\d{4}-\d{6}")
ANSWERED = ["dzongkhag", "thram", "building", "floors", "start_date", "owns_land", "owner_cid"]


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    """The simulator and the tests' run take a moment on a busy machine."""
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default


@dataclass(frozen=True)
class Live:
    url: str
    app: FastAPI


@pytest.fixture
def live(redis_database: RedisDatabase) -> Iterator[Live]:
    people = {
        AUTHOR: [Grant(Role.AUTHOR)],
        PUBLISHER: [Grant(Role.PUBLISHER)],
        OFFICER: [Grant(Role.OFFICER, SERVICE)],
    }
    with studio_gateway(redis_database, people) as (url, app):
        yield Live(url, app)


# --- what the author does, in the form ----------------------------------------------------


def question(
    page: Page,
    kind: str,
    step_id: str,
    prompt: str,
    label: str | None = None,
    fields: tuple[tuple[str, str], ...] = (),
) -> Locator:
    """A question added through the form: its prompt typed where the focus lands, then in
    its "More fields" its label and `fields` (label, text), each written in turn."""
    step = add_step(page, kind, step_id)
    expect(step.get_by_label("Prompt: en")).to_be_focused()
    page.keyboard.type(prompt)
    more_fields(step)
    if label is not None:
        write(step, "Label: en", label)
    for name, text in fields:
        write(step, name, text)
    return step


def branch_on(step: Locator, answer: str, value: str, then: str, otherwise: str) -> None:
    """ "Then go to: depending on the answers": if `answer` is `value` go to `then`, else
    to `otherwise`; picked from the lists, no expression typed."""
    more_fields(step)
    step.get_by_label("Then go to").select_option(label="Depending on the answers…")
    step.get_by_role("button", name="Add a branch").click()  # before the "otherwise" one
    first = step.get_by_role("group", name="Branch 1")
    first.get_by_label("If the answer to").select_option(answer)
    first.get_by_label("Value").select_option(value)
    first.get_by_label("Go to").select_option(then)
    last = step.get_by_role("group", name="Branch 2")
    expect(last.get_by_label("If the answer to")).to_have_value("")  # (always)
    last.get_by_label("Go to").select_option(otherwise)


def build_the_permit(page: Page) -> None:
    """From the blank service (a name question and an end) to the construction permit."""
    settings = page.locator("details.service-fields")
    settings.locator("summary", has_text="Service settings").click()
    write(
        settings,
        "Description: en",
        "Apply for a permit to build. An officer reviews every application.",
    )
    write(settings, "Help: en", "Have your thram ready. Reply 0 to go back, 00 for the main menu.")
    page.get_by_role("button", name="Remove: applicant_name").click()
    announced(page, "applicant_name removed")

    cid_error = "A citizenship ID has exactly 11 digits, e.g. 11512000123."
    question(
        page,
        "national_id",
        "cid",
        "Enter your citizenship ID (11 digits)",
        "CID",
        (("Error: en", cid_error),),
    )

    # The district, from the shared list of dzongkhags.
    district = question(page, "choice", "dzongkhag", "Dzongkhag of the plot", "Dzongkhag")
    lists = district.get_by_label("Options from a shared list")
    expect(lists.locator("option", has_text="Dzongkhags of Bhutan (20 options)")).to_be_attached()
    lists.select_option("dzongkhags")

    thram_error = "Enter the thram number in letters, digits, / or - (3 to 20)."
    question(
        page,
        "text",
        "thram",
        "Thram number of the plot, e.g. TH-1234",
        "Thram",
        (
            ("Min Length", "3"),
            ("Max Length", "20"),
            ("Pattern", "[A-Za-z0-9/-]+"),
            ("Error: en", thram_error),
        ),
    )

    # The kind of building: three options of its own, typed with the keyboard.
    building = question(page, "choice", "building", "Kind of building", "Building")
    for number, (value, label) in enumerate(
        [("residential", "Residential"), ("commercial", "Commercial"), ("mixed", "Mixed")], 1
    ):
        building.get_by_role("button", name="Add to Options").click()
        option = building.get_by_role("listitem", name=f"Options {number}")
        expect(option.get_by_label("Value")).to_be_focused()
        page.keyboard.type(value)
        page.keyboard.press("Tab")
        expect(option.get_by_label("Label: en")).to_be_focused()
        page.keyboard.type(label)

    question(
        page,
        "number",
        "floors",
        "Number of floors (1 to 6)",
        "Floors",
        (("Min", "1"), ("Max", "6"), ("Error: en", "A building here has 1 to 6 floors.")),
    )
    start = question(
        page,
        "date",
        "start_date",
        "Planned start of works (DD/MM/YYYY)",
        "Start",
        (("Min", "today"), ("Max", "today + 2 years")),  # not in the past
    )
    start.get_by_label("Format").select_option("DD/MM/YYYY")
    question(page, "yes_no", "owns_land", "Do you own the land?", "Own land")
    question(
        page,
        "national_id",
        "owner_cid",
        "Citizenship ID of the land's owner (11 digits)",
        "Owner CID",
        (("Error: en", cid_error),),
    )

    # The summary: the answers it lists ticked (the citizen may change any of them).
    summary = question(page, "summary", "review", "Check your application")
    listed = summary.get_by_role("group", name="Fields")
    expect(listed.get_by_role("checkbox")).to_have_count(len(ANSWERED) + 1)  # and cid
    for answer in ANSWERED:
        listed.get_by_label(answer, exact=True).check()

    add_step(page, "yes_no", "consent")
    page.keyboard.type("I declare the information is true.")

    # The submission, reviewed by an officer; the citizen acknowledged at once.
    submit = add_step(page, "submit", "submit")
    submit.get_by_label("Mode").select_option("review")
    write(submit, "Reference Prefix", "CP")
    more_fields(submit)
    write(
        submit,
        "Acknowledgement: en",
        "Application received. An officer reviews it within 10 days; the decision comes by SMS.",
    )
    write(submit, "Wait: en", "We could not send your application yet. Reply 1 to try again.")
    review = submit.get_by_role("group", name="Review", exact=True)
    review.locator("summary", has_text="More fields").click()
    write(review, "Days", "10")
    for number, reason in enumerate(
        [
            "The plot is not zoned for this kind of building.",
            "The thram number does not match the plot.",
        ],
        1,
    ):
        review.get_by_role("button", name="Add to Reasons").click()
        box = review.get_by_label(f"Reasons {number}: en")
        expect(box).to_be_focused()
        page.keyboard.type(reason)
    # The form was drawn again for each reason: its folds stayed open.
    fold = submit.locator(":scope > details > .fields > details.optional")
    expect(fold).to_have_attribute("open", "")
    submit.get_by_label("Then go to").select_option("done")

    declined = add_step(page, "end", "declined")
    page.keyboard.type("Application cancelled. Nothing was submitted.")
    # It went before the last end step; it goes after it, with the keyboard.
    page.get_by_role("button", name="Move down: declined").focus()
    page.keyboard.press("Enter")
    announced(page, re.compile(r"^declined moved to position 13 of 13$"))
    expect(declined.get_by_role("button", name="Move down: declined")).to_be_disabled()

    done = page.locator("#step-done")
    open_step(done)
    write(
        done,
        "Prompt: en",
        "Your reference is {{ submission.reference }}. Send STATUS to follow your application.",
    )


def play(page: Page, answer: str) -> str:
    """Sends `answer` in the simulator; the screen it answers with."""
    turns = page.get_by_role("list", name="Transcript").locator(":scope > li")
    before = turns.count()
    page.get_by_label("Answer", exact=True).fill(answer)
    page.keyboard.press("Enter")
    expect(turns).to_have_count(before + 1)
    return turns.last.locator("pre.screen").inner_text()


def numbered(screen: str, text: str) -> str:
    """The number of the line of `screen` that says `text` ("3. Floors: 2" -> "3")."""
    found = re.search(rf"^(\d+)\.\s*{re.escape(text)}", screen, re.MULTILINE)
    assert found is not None, f"no line {text!r} in:\n{screen}"
    return found.group(1)


def english(value: Any) -> Any:
    """`value` with each text given in English alone ({"en": "Floors"}, as the form writes
    it) written as the YAML writes it ("Floors"): the same to the gateway."""
    if isinstance(value, dict):
        if set(value) == {"en"} and isinstance(value["en"], str):
            return value["en"]
        return {key: english(item) for key, item in value.items()}
    if isinstance(value, list):
        return [english(item) for item in value]
    return value


# --- the scenario -------------------------------------------------------------------------


def test_a_permit_built_in_the_browser_is_published_applied_for_and_approved(
    browser: Browser, live: Live
) -> None:
    with person(browser, live.url, AUTHOR) as (page, problems):
        # 1. A blank service, from the studio's list.
        page.get_by_role("link", name="Studio", exact=True).click()
        page.get_by_label("Service id").fill(SERVICE)
        page.get_by_label("Title").fill("Construction permit")
        page.get_by_label("Start from").select_option("blank")
        page.get_by_role("button", name="Start", exact=True).click()
        expect(page).to_have_url(re.compile(f"/console/studio/{SERVICE}$"))
        expect(page.locator("#draft-status")).to_contain_text("Revision 1")
        expect(page.locator("#diagnostics-summary")).to_have_text("No problems found.")
        expect(page.locator("#preview-screen")).to_contain_text("Enter your full name")
        expect(page.locator("#preview-screen")).not_to_contain_text("Estimated here")
        assert_accessible(page, "the editor, a blank service")
        screenshot(page, "10-blank", folder=PICTURES)

        build_the_permit(page)
        expect(page.get_by_role("list", name="Steps").locator(":scope > li")).to_have_count(13)
        page.get_by_role("button", name="Save", exact=True).click()
        announced(page, re.compile(r"^Saved: revision \d+$"))
        # Back later: the steps folded, one a line. The checker says the summary spreads
        # over several USSD screens (the gateway pages it), and that nothing leads to
        # "declined" yet; that warning leads to its step.
        page.get_by_role("link", name="Back to the studio").click()
        page.get_by_role("link", name=f"Edit {SERVICE}").click()
        expect(page.locator("#diagnostics-summary")).to_have_text("Errors: 0, warnings: 2")
        expect(page.locator("#diagnostics-list")).to_contain_text("W251 (review)")
        unreachable = page.get_by_role("button", name=re.compile(r"^Warning W203 \(declined\)"))
        expect(page.locator("#step-owns_land > details")).not_to_have_attribute("open", "")
        expect(page.locator("#preview-screen")).not_to_contain_text("Estimated here")
        assert_accessible(page, "the editor, the permit's steps")
        screenshot(page, "11-steps", folder=PICTURES, full_page=True)
        unreachable.click()
        expect(page.locator("#step-declined :focus")).to_have_count(1)

        # 2. The branches, picked from the answers: "do you own the land?", the declaration.
        land = page.locator("#step-owns_land")
        branch_on(land, "owns_land", "yes", then="review", otherwise="owner_cid")
        consent = page.locator("#step-consent")
        more_fields(consent)
        branch_on(consent, "consent", "yes", then="submit", otherwise="declined")
        page.get_by_role("button", name="Save", exact=True).click()
        announced(page, re.compile(r"^Saved: revision \d+$"))
        expect(page.locator("#diagnostics-summary")).to_have_text("Errors: 0, warnings: 1")
        expect(page.locator("#diagnostics-list")).to_contain_text("W251 (review)")
        land.get_by_role("group", name="Branch 1").get_by_label("Go to").focus()
        land.locator(".next").scroll_into_view_if_needed()
        assert_accessible(page, "the editor with branches")
        screenshot(page, "12-branch", folder=PICTURES)

        # 3. The preview of the kind of building: USSD's 182 characters, then WhatsApp.
        building = page.locator("#step-building")
        open_step(building)
        building.get_by_label("Prompt: en").click()
        preview = page.locator("#preview-screen")
        expect(preview).to_contain_text("Step: building")
        expect(preview).to_contain_text("3. Mixed")
        expect(preview.locator(".count").first).to_have_text(re.compile(r"^\d+/182 characters$"))
        page.get_by_role("tab", name="WhatsApp").click()
        expect(preview).to_contain_text("WhatsApp buttons:")
        expect(preview.get_by_role("listitem").filter(has_text="Commercial").first).to_be_visible()
        assert_accessible(page, "the editor's preview on WhatsApp")
        screenshot(page, "13-preview", folder=PICTURES)
        page.get_by_role("tab", name="USSD").click()
        at_200_percent(page, "the editor of the permit")

        # 4. Played on USSD to the end, changing an answer on the summary on the way.
        simulator = page.get_by_role("region", name="Simulator")
        expect(simulator.get_by_label("Medium")).to_have_value("ussd")
        page.get_by_role("button", name="Start again").click()
        transcript = page.get_by_role("list", name="Transcript")
        expect(transcript).to_contain_text("Enter your citizenship ID")
        for answer in ["11501001234", "Paro", "TH-1234", "1", "2", in_days(30)]:
            play(page, answer)
        summary = play(page, "1")  # yes, the land is mine
        assert "Check your application" in summary, summary
        assert "Owner CID" not in summary, summary
        choices = play(page, numbered(summary, "Change"))
        play(page, numbered(choices, "Floors"))
        summary = play(page, "3")
        assert "Check your application" in summary, summary
        assert "Floors: 3" in summary, summary
        declaration = play(page, numbered(summary, "Confirm"))
        assert "I declare the information is true." in declaration, declaration
        last = play(page, "1")  # I declare
        assert "Application received" in last, last
        assert REFERENCE.search(last), last
        expect(transcript).to_contain_text("The conversation ended.")
        assert_accessible(page, "the simulator at the end")
        changing = transcript.locator(":scope > li").filter(has_text="You: 3")
        changing.scroll_into_view_if_needed()
        screenshot(page, "14-simulator", folder=PICTURES)

        # 5. Kept as a test; the tests run and pass.
        page.get_by_label("Test name").fill("played in the studio")
        page.get_by_role("button", name="Save as test").click()
        announced(page, "Saved as the test played in the studio")
        page.get_by_role("button", name="Run tests").click()
        results = page.locator("#tests-results")
        expect(results).to_contain_text("All tests passed.")
        expect(results).to_contain_text("played in the studio (ussd): passed")
        assert_accessible(page, "the editor, the tests run")
        results.scroll_into_view_if_needed()
        screenshot(page, "15-tests", folder=PICTURES)

        # 6. Sent for review.
        page.get_by_role("button", name="Submit for review").click()
        announced(page, "Sent for review.")
        expect(page.locator("#draft-status")).to_contain_text("sent for review")
        assert_accessible(page, "the editor, sent for review")
        assert problems == [], problems

    # 7. The publisher reads the changes in words and publishes.
    with person(browser, live.url, PUBLISHER) as (page, problems):
        page.get_by_role("link", name="Studio", exact=True).click()
        page.get_by_role("link", name=f"Review {SERVICE}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Review: {SERVICE}")
        expect(page.locator("#review-status")).to_contain_text("a new service")
        changes = page.locator("#review-diff")
        expect(changes).to_contain_text("owns_land")
        expect(changes).to_contain_text("consent")
        assert_accessible(page, "the review page")
        screenshot(page, "16-review", folder=PICTURES, full_page=True)
        page.get_by_label("Comment").fill("Clear questions; publish.")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.locator("#review-status")).to_have_text("Published as version 1.")
        assert_accessible(page, "the review page, published")
        page.get_by_role("link", name="Back to the studio").click()
        row = page.get_by_role("row", name=re.compile(SERVICE))
        expect(row.get_by_role("cell").first).to_have_text("1")
        assert_accessible(page, "the studio's list, published")
        screenshot(page, "17-published", folder=PICTURES)
        assert problems == [], problems

    # What runs is the permit as its YAML says (tests/gateway/studio/permit/).
    running = Runtime.of(live.app).conversations.catalog.get(SERVICE)
    assert running is not None
    dzongkhags = ROOT / "services" / "lists" / "dzongkhags.yaml"
    shared, _ = read_list(dzongkhags.read_text(encoding="utf-8"), dzongkhags.name)
    wanted = load_text(
        PERMIT.read_text(encoding="utf-8"), PERMIT.name, {"dzongkhags": shared}
    ).definition
    assert wanted is not None
    built, written = english(running.definition.model_dump()), english(wanted.model_dump())
    assert [step["id"] for step in built["steps"]] == [step["id"] for step in written["steps"]]
    for ours, theirs in zip(built.pop("steps"), written.pop("steps"), strict=True):
        different = {
            k: (ours.get(k), theirs.get(k)) for k in ours | theirs if ours.get(k) != theirs.get(k)
        }
        assert not different, f"step {ours['id']}: {different}"
    assert built == written

    # 8. A citizen applies over USSD, from the main menu.
    menu = dial_served(live.url, "cp-1", [], CITIZEN, code=MAIN_MENU)
    choice = numbered(menu, "Construction permit")
    answers = ["11501001234", "Paro", "TH-1234", "1", "2", in_days(30), "1", "1", "1"]
    last = dial_served(live.url, "cp-2", [choice, *answers], CITIZEN, code=MAIN_MENU)
    assert "Application received" in last, last
    found = REFERENCE.search(last)
    assert found is not None, last
    reference = found.group(0)

    # 9. The officer of the construction permits approves it at the desk.
    with person(browser, live.url, OFFICER) as (page, problems):
        expect(page).to_have_url(re.compile(r"/console/applications$"))
        link = page.get_by_role("link", name=reference)
        expect(link).to_be_visible()
        assert_accessible(page, "/console/applications, the permit's application")
        screenshot(page, "18-applications", folder=PICTURES)
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Application {reference}")
        expect(page.locator("#status")).to_have_text("submitted")
        expect(page.get_by_role("table").first).to_contain_text("TH-1234")
        assert_accessible(page, f"/console/applications/{reference}, submitted")
        page.get_by_role("button", name="Approve").click()
        expect(page.locator("#status")).to_have_text("approved")
        expect(page.get_by_role("status")).to_have_text("Approved. The citizen is being told.")
        assert_accessible(page, f"/console/applications/{reference}, approved")
        screenshot(page, "19-approved", folder=PICTURES)
        assert problems == [], problems
