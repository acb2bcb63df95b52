"""The pure step function, driven as a citizen would, with a fixed clock.

Two small services (`tests.dialogs.helpers`) make a menu; the real business registration
from `services/` runs end to end.
"""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from dialogs.catalog import Catalog
from dialogs.engine import MAX_ANSWER_CHARS, act
from dialogs.media import PROFILES, Medium
from dialogs.messages import (
    Application,
    Inbound,
    LookupRequest,
    LookupResult,
    RepeatLimits,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
)
from dialogs.session import (
    Asking,
    AtMenu,
    Awaiting,
    ChoosingField,
    ChoosingLanguage,
    Snapshot,
)
from tests.dialogs.helpers import (
    CENSUS_MOBILE,
    FISHING_V1,
    FISHING_V2,
    NOW,
    PET_LICENCE,
    Chat,
    Perform,
    compile_yaml,
    small_catalog,
)

MENU = (
    "Government services. Choose one:\n1. Fishing permit\n2. Pet licence\n3. Language"
    "\n4. My applications"
)
CID = "11512000123"


@pytest.fixture
def chat() -> Chat:
    return Chat(small_catalog())


def _fishing_to_summary(chat: Chat, river: str = "2") -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema Wangmo")
    chat.send(river)
    if river == "3":
        chat.send("2")  # no boat
    chat.send("5")
    assert chat.snap.step == "review"


# ------------------------------------------------------------------ start and menu
def test_several_services_start_with_a_menu(chat: Chat) -> None:
    outcome = chat.send("hello")
    assert chat.screen == MENU
    assert chat.snap.service is None
    assert chat.snap.state == AtMenu()
    assert chat.snap.id == "conv-1"
    assert chat.snap.started == NOW.isoformat()
    assert outcome.effects == ()
    assert outcome.snapshot.ended is False


@pytest.mark.parametrize(
    ("typed", "service"),
    [("1", "fishing-permit"), ("pet licence", "pet-licence"), ("fishing-permit", "fishing-permit")],
)
def test_menu_choice_starts_a_service(chat: Chat, typed: str, service: str) -> None:
    chat.send("")
    outcome = chat.send(typed)
    assert chat.snap.service == service
    assert chat.snap.version == 1
    assert chat.snap.step == chat.catalog.get(service).start  # type: ignore[union-attr]
    assert [e["event"] for e in outcome.events] == ["started"]
    assert outcome.events[0]["service"] == service


@pytest.mark.parametrize("typed", ["5", "0x", "fishing", "", "-1"])
def test_bad_menu_choice_shows_the_menu_again(chat: Chat, typed: str) -> None:
    chat.send("")
    chat.send(typed)
    assert chat.screen == "Please reply with one of the numbers shown.\n" + MENU
    assert chat.snap.state == AtMenu()


def test_ussd_menu_has_no_language_entry() -> None:
    chat = Chat(small_catalog(), channel=Medium.USSD)
    chat.send("")
    assert chat.screen == (
        "Government services. Choose one:\n1. Fishing permit\n2. Pet licence\n3. My applications"
    )


# ------------------------------------------------------------------ status
APPLICATIONS = StatusResult(
    ok=True,
    applications=(
        Application("PL-2026-000002", "pet-licence", "pending"),
        Application("FP-2026-000001", "fishing-permit", "approved"),
    ),
)
LISTED = (
    "Your applications:\nPL-2026-000002 Pet licence: under review\n"
    "FP-2026-000001 Fishing permit: approved"
)


def test_the_ussd_menu_lists_the_citizens_applications_and_ends() -> None:
    chat = Chat(small_catalog(), channel=Medium.USSD)
    chat.send("")
    outcome = chat.send("3")
    assert outcome.effects == (StatusRequest(),)
    answered = chat.send("", result=APPLICATIONS)
    assert chat.screen == LISTED
    assert answered.replies[-1].end
    assert chat.snap.ended


def test_the_status_word_works_in_the_middle_of_a_service(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    outcome = chat.send("STATUS")
    assert outcome.effects == (StatusRequest(),)
    answered = chat.send("", result=APPLICATIONS)
    assert [r.text for r in answered.replies] == [LISTED, "Which river?"]
    assert chat.snap.step == "river"  # the application in progress goes on
    assert chat.snap.answers["holder"] == "Pema"


def test_no_applications_and_an_unavailable_list_are_said_plainly(chat: Chat) -> None:
    chat.send("")
    chat.send("4")
    none = chat.send("", result=StatusResult(ok=True))
    assert [r.text for r in none.replies] == [
        "You have no applications yet.",
        "Government services. Choose one:",
    ]
    chat.send("status")
    down = chat.send("", result=StatusResult(ok=False))
    assert down.replies[0].text.startswith("The service is temporarily unavailable")
    assert chat.snap.state == AtMenu()


def test_one_service_starts_directly() -> None:
    chat = Chat(Catalog.of([compile_yaml(PET_LICENCE)]))
    chat.send("hi")
    assert chat.snap.service == "pet-licence"
    assert chat.screen == "Citizenship ID"


def test_inbound_service_starts_it_directly(chat: Chat) -> None:
    chat.send("", service="pet-licence")
    assert chat.snap.step == "cid"
    assert chat.screen == "Citizenship ID"
    unknown = Chat(small_catalog())
    unknown.send("", service="no-such-service")
    assert unknown.screen == MENU


def test_no_services() -> None:
    chat = Chat(Catalog())
    outcome = chat.send("hi")
    assert chat.screen == "No service is available right now. Please try again later."
    assert outcome.replies[-1].end
    assert chat.snap.ended


# ------------------------------------------------------------------ language
def test_language_choice_is_remembered_in_the_snapshot(chat: Chat) -> None:
    chat.send("")
    chat.send("3")
    assert chat.screen == "Choose your language:\n1. English\n2. རྫོང་ཁ"
    assert chat.snap.state == ChoosingLanguage()
    chat.send("2")
    assert chat.snap.lang == "dz"
    after = chat.snap  # a fresh name: mypy would keep the earlier narrowing of chat.snap
    assert after.state == AtMenu()
    assert chat.screen.splitlines()[1] == "1. ཉ་འཛིན་ཆོག་ཐམ"
    # the snapshot goes through storage between two messages
    chat.snapshot = Snapshot.from_json(chat.snap.to_json())
    chat.send("1")
    assert chat.screen == "ཁྱོད་ཀྱི་མིང"
    chat.send("Pema")
    assert chat.snap.lang == "dz"
    assert chat.snap.step == "river"


def test_language_by_name_and_back_from_the_language_list(chat: Chat) -> None:
    chat.send("")
    chat.send("language")
    chat.send("0")
    assert chat.snap.state == AtMenu()
    assert chat.screen == MENU
    chat.send("3")
    chat.send("English")
    assert chat.snap.lang == "en"
    assert chat.screen == MENU
    chat.send("3")
    chat.send("7")
    assert chat.screen.startswith("Please reply with one of the numbers shown.\nChoose your")


def test_language_known_from_an_earlier_conversation() -> None:
    chat = Chat(small_catalog(), lang="dz")
    chat.send("", service="fishing-permit")
    assert chat.snap.lang == "dz"
    assert chat.screen == "ཁྱོད་ཀྱི་མིང"


def test_ussd_shows_english_whatever_the_language() -> None:
    chat = Chat(small_catalog(), channel=Medium.USSD, lang="dz")
    chat.send("", service="fishing-permit")
    assert chat.snap.lang == "dz"
    assert chat.screen == "Your name"


def test_a_service_without_the_language_falls_back_to_english() -> None:
    chat = Chat(small_catalog(), lang="dz")
    chat.send("", service="pet-licence")
    assert chat.snap.lang == "dz"  # the citizen's choice is kept for the next service
    assert chat.screen == "Citizenship ID"


# ------------------------------------------------------------------ commands
def test_back_returns_to_the_previous_question(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    chat.send("1")
    assert chat.snap.step == "days"
    outcome = chat.send("0")
    assert chat.snap.step == "river"
    assert chat.snap.trail == ("holder",)
    assert chat.screen.startswith("Which river?")
    assert [(e["event"], e["to"]) for e in outcome.events] == [("back", "river")]
    chat.send("back")
    assert chat.snap.step == "holder"
    after = chat.snap
    assert after.trail == ()
    chat.send("0")  # nothing before the first question
    assert chat.snap.step == "holder"
    assert chat.screen == "Your name"


def test_ussd_offers_back_on_menus_after_the_first_question() -> None:
    chat = Chat(small_catalog(), channel=Medium.USSD)
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    assert chat.screen == "Which river?\n1. Mo Chhu\n2. Pho Chhu\n3. Wang Chhu\n0. Back"


def test_double_zero_leaves_for_the_main_menu(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    outcome = chat.send("00")
    assert chat.screen == MENU
    assert chat.snap.service is None
    assert chat.snap.answers == {}
    assert chat.snap.trail == ()
    assert [e["event"] for e in outcome.events] == ["left"]
    chat.send("2")
    assert chat.snap.service == "pet-licence"
    chat.send("MENU")
    assert chat.screen == MENU


def test_double_zero_with_one_service_restarts_it() -> None:
    chat = Chat(Catalog.of([compile_yaml(FISHING_V1)]))
    chat.send("")
    chat.send("Pema")
    outcome = chat.send("00")
    assert chat.snap.step == "holder"
    assert chat.snap.answers == {}
    assert [e["event"] for e in outcome.events] == ["restarted", "started"]


def test_help_uses_the_step_then_the_service_then_the_builtin_text(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("help")
    assert chat.screen == "Type your full name.\nYour name"
    assert chat.snap.step == "holder"
    assert chat.snap.answers == {}
    chat.send("Pema")
    chat.send("?")
    assert chat.screen.startswith("Service help.\nWhich river?")
    chat.send("00")
    chat.send("HELP")
    assert chat.screen == (
        "Reply with your answer or the number of a choice. 0 Back, 00 Main menu, STOP to end.\n"
        + MENU
    )


def test_restart_clears_the_answers(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    chat.send("1")
    chat.send("restart")
    assert chat.snap.step == "holder"
    assert chat.snap.answers == {}
    assert chat.snap.trail == ()
    assert chat.snap.service == "fishing-permit"


@pytest.mark.parametrize("word", ["stop", "STOP", "cancel", "quit", "exit"])
def test_stop_ends_and_the_next_message_starts_again(chat: Chat, word: str) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    outcome = chat.send(word)
    assert chat.screen == "Goodbye. Dial again any time."
    assert outcome.replies[-1].end
    assert chat.snap.ended
    assert [e["event"] for e in outcome.events] == ["stopped"]
    chat.send("hello again")
    assert not chat.snap.ended
    assert chat.screen == MENU


# ------------------------------------------------------------------ answers
def test_invalid_answers_explain_and_ask_again(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    outcome = chat.send("P")
    assert chat.screen == "Please enter at least 2 characters.\nYour name"
    assert chat.snap.invalid == 1
    assert chat.snap.step == "holder"
    assert outcome.events[0]["event"] == "invalid"
    assert outcome.events[0]["reason"] == "too_short"
    chat.send("")
    assert chat.snap.invalid == 2
    assert chat.screen == "Please enter an answer.\nYour name"
    chat.send("Pema")
    assert chat.snap.invalid == 0


def test_a_step_error_text_replaces_the_builtin_one(services_catalog: Catalog) -> None:
    chat = Chat(services_catalog)
    chat.send("", service="business-registration")
    chat.send("123")
    assert chat.screen == (
        "A citizenship ID has exactly 11 digits, e.g. 11512000123.\n"
        "Enter your citizenship ID (11 digits)"
    )


def test_a_button_choice_wins_over_the_text(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    chat.send("ignored words", choice="3")
    assert chat.snap.answers["river"] == "wang_chhu"
    assert chat.snap.step == "boat"


def test_control_characters_and_huge_answers_are_cleaned(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("\x00Pe\x07ma\x1b ")
    assert chat.snap.answers["holder"] == "Pe ma"
    chat.send("0")
    chat.send("x" * 10_000)
    assert chat.screen == "Please enter at most 30 characters.\nYour name"
    assert MAX_ANSWER_CHARS == 2000


def test_citizen_text_is_never_a_template(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("{{ 7*7 }}")
    chat.send("1")
    chat.send("3")
    assert "Name: {{ 7*7 }}" in chat.screen
    chat.send("1")
    assert chat.screen == "Permit for {{ 7*7 }} on Mo Chhu."


def test_end_screen_ends_the_conversation(chat: Chat) -> None:
    _fishing_to_summary(chat)
    outcome = chat.send("1")
    assert chat.screen == "Permit for Pema Wangmo on Pho Chhu."
    assert outcome.replies[-1].end
    assert chat.snap.ended
    assert [e["event"] for e in outcome.events] == ["answered", "completed"]


# ------------------------------------------------------------------ paging
def test_ninety_eight_pages_a_long_list_on_ussd(services_catalog: Catalog) -> None:
    chat = Chat(services_catalog, channel=Medium.USSD)
    perform = Perform(
        lookups={"citizen": LookupResult(ok=True, data={"name": "Pema", "mobile": CENSUS_MOBILE})}
    )
    chat.run("", perform, service="business-registration")
    for answer in (CID, "Pema Shop", "1", "1"):
        chat.run(answer, perform)
    assert chat.snap.step == "location"
    first = chat.screen
    assert first.startswith("Dzongkhag of the business\n1. Bumthang")
    assert first.endswith("\n98. More\n0. Back")
    assert "14. Thimphu" not in first
    chat.send("98")
    assert chat.snap.page == 1
    assert chat.screen.startswith("13. Sarpang")
    assert "14. Thimphu" in chat.screen
    assert "98. More" not in chat.screen
    assert chat.screen.endswith("0. Back")
    chat.send("0")  # back goes to the previous page first
    assert chat.snap.page == 0
    assert chat.screen == first
    chat.send("14")  # numbers are absolute: Thimphu from any page
    assert chat.snap.answers["location"] == "thimphu"
    assert chat.snap.page == 0


def test_more_past_the_last_page_is_an_answer(services_catalog: Catalog) -> None:
    chat = Chat(services_catalog, channel=Medium.SMS)
    chat.send("", service="business-registration")
    chat.send("98")  # one page only on SMS: "98" is read as an answer
    assert chat.snap.page == 0
    assert chat.snap.invalid == 1


# ------------------------------------------------------------------ summary and edits
def test_summary_lists_the_answers(chat: Chat) -> None:
    _fishing_to_summary(chat)
    assert chat.screen == (
        "Check your permit\nName: Pema Wangmo\nRiver: Pho Chhu\nDays: 5\n"
        "1. Confirm\n2. Change an answer"
    )


def test_changing_an_answer_returns_to_the_summary(chat: Chat) -> None:
    _fishing_to_summary(chat)
    chat.send("2")
    assert chat.snap.state == ChoosingField()
    assert chat.screen == "Which answer do you want to change?\n1. Name\n2. River\n3. Days"
    outcome = chat.send("3")
    assert chat.snap.step == "days"
    assert chat.snap.return_to == "review"
    assert [(e["event"], e["to"]) for e in outcome.events] == [("edit", "days")]
    chat.send("7")
    assert chat.snap.step == "review"
    assert chat.snap.return_to is None
    assert "Days: 7" in chat.screen
    assert "Name: Pema Wangmo" in chat.screen


def test_changing_a_branch_asks_the_new_branch_questions(chat: Chat) -> None:
    _fishing_to_summary(chat, river="2")
    chat.send("2")
    chat.send("River")  # by label
    chat.send("3")  # Wang Chhu: the boat question belongs to this branch
    assert chat.snap.step == "boat"
    chat.send("1")
    assert chat.snap.step == "review"  # days was answered: straight back
    assert "Boat: Yes" in chat.screen
    assert "Days: 5" in chat.screen
    # and back to a branch without the boat: its answer is forgotten
    chat.send("2")
    chat.send("2")
    chat.send("1")
    assert chat.snap.step == "review"
    assert "boat" not in chat.snap.answers
    assert "Boat" not in chat.screen


def test_back_from_the_field_list_shows_the_summary(chat: Chat) -> None:
    _fishing_to_summary(chat)
    chat.send("2")
    chat.send("0")
    assert chat.snap.state == Asking()
    assert chat.screen.startswith("Check your permit")
    chat.send("2")
    chat.send("9")
    assert chat.screen.startswith("Please reply with one of the numbers shown.\nWhich answer")


# ------------------------------------------------------------------ lookups
def test_lookup_effect_and_ok_result(chat: Chat) -> None:
    chat.send("", service="pet-licence")
    outcome = chat.send("115 1200 0123")
    assert chat.snap.step == "owner"
    assert chat.snap.state == Awaiting()
    assert outcome.replies == ()
    assert outcome.effects == (
        LookupRequest(
            step="owner",
            method="GET",
            url="https://census.example/api/11512000123",
            query={"q": "11512000123"},
            body=None,
            headers={"Authorization": "env:CENSUS_TOKEN"},  # resolved by the gateway
            timeout=2.0,
        ),
    )
    outcome = chat.send(result=LookupResult(ok=True, data={"name": "Dorji", "income": 9}))
    assert chat.snap.answers["owner"] == {"name": "Dorji"}  # only `fields` are kept
    assert chat.snap.step == "pet"
    after = chat.snap
    assert after.state == Asking()
    assert chat.screen == "Hello Dorji. Pet name"
    assert [(e["event"], e.get("ok")) for e in outcome.events] == [("lookup", True)]


def test_failed_lookup_goes_to_on_error(chat: Chat) -> None:
    chat.send("", service="pet-licence")
    chat.send(CID)
    chat.send(result=LookupResult(ok=False, error="timeout"))
    assert chat.snap.step == "owner_name"
    assert "owner" not in chat.snap.answers
    assert chat.screen == "Owner name"
    chat.send("Karma")
    assert chat.screen == "Pet name"


def test_a_late_lookup_result_is_ignored(chat: Chat) -> None:
    chat.send("", service="pet-licence")
    chat.send(CID)
    chat.send(result=LookupResult(ok=True, data={"name": "Dorji", "mobile": CENSUS_MOBILE}))
    before = chat.snap
    outcome = chat.send(result=LookupResult(ok=False))
    assert outcome.snapshot == before
    assert outcome.replies == ()
    assert outcome.effects == ()


def test_a_message_while_awaiting_a_lookup_asks_again(chat: Chat) -> None:
    chat.send("", service="pet-licence")
    first = chat.send(CID).effects
    again = chat.send("hello?")
    assert again.effects == first
    assert chat.snap.state == Awaiting()


def test_lookup_url_percent_encodes_the_answer() -> None:
    service = compile_yaml(
        PET_LICENCE.replace("type: national_id", "type: text").replace(
            "id: pet-licence", "id: pet-x"
        )
    )
    chat = Chat(Catalog.of([service]))
    chat.send("")
    outcome = chat.send("../admin?all=1")
    request = outcome.effects[0]
    assert isinstance(request, LookupRequest)
    assert request.url == "https://census.example/api/%2E%2E%2Fadmin%3Fall%3D1"


# ------------------------------------------------------------------ submissions
def _pet_to_submit(chat: Chat) -> Submission:
    chat.send("", service="pet-licence")
    chat.send(CID)
    chat.send(result=LookupResult(ok=True, data={"name": "Dorji", "mobile": CENSUS_MOBILE}))
    outcome = chat.send("Tashi")
    assert chat.snap.step == "submit"
    assert chat.snap.state == Awaiting()
    (effect,) = outcome.effects
    assert isinstance(effect, Submission)
    return effect


def test_submission_effect(chat: Chat) -> None:
    effect = _pet_to_submit(chat)
    assert effect == Submission(
        step="submit",
        service="pet-licence",
        version=1,
        idempotency_key="conv-1:pet-licence:1:submit",
        mode="review",
        reference_prefix="PL",
        answers={"cid": CID, "pet": "Tashi"},  # only `fields`
        document=None,
        applicant_id=CID,  # the answer of the national_id step, to count repeats
        phone=CENSUS_MOBILE,  # the number the operator gave
        assurance="self-declared",  # no registry confirmed who applies
        limits=RepeatLimits(per_id=3, per_phone=5, days=30),  # the submit step's defaults
    )


def test_submission_result_advances_once(chat: Chat) -> None:
    _pet_to_submit(chat)
    result = SubmissionResult(ok=True, reference="PL-7", status="pending")
    outcome = chat.send(result=result)
    assert chat.snap.step == "receipt"
    assert chat.snap.submission == {"reference": "PL-7", "status": "pending", "link": None}
    assert chat.screen == "Received PL-7.\n1. Continue"
    assert [e["event"] for e in outcome.events] == ["submitted"]
    before = chat.snap
    repeated = chat.send(result=result)
    assert repeated.snapshot == before
    assert repeated.replies == ()
    assert repeated.effects == ()
    assert repeated.events == ()
    chat.send("ok")
    assert chat.screen == "Reference PL-7"
    assert chat.snap.ended


def test_failed_submission_is_tried_again_on_the_next_message(chat: Chat) -> None:
    effect = _pet_to_submit(chat)
    outcome = chat.send(result=SubmissionResult(ok=False))
    assert chat.screen == "Saving failed. Reply anything to retry."
    assert chat.snap.step == "submit"
    assert chat.snap.state == Awaiting()
    assert outcome.effects == ()
    assert [e["event"] for e in outcome.events] == ["submit_failed"]
    retry = chat.send("again")
    assert retry.effects == (effect,)  # the same idempotency key
    chat.send(result=SubmissionResult(ok=True, reference="PL-8"))
    assert chat.snap.step == "receipt"


def test_idempotency_key_is_conversation_service_run_and_step() -> None:
    chat = Chat(small_catalog(), conversation_id="wa:+97517123456:42")
    effect = _pet_to_submit(chat)
    assert effect.idempotency_key == "wa:+97517123456:42:pet-licence:1:submit"


def _register(chat: Chat, perform: Perform, answers: list[str]) -> None:
    chat.run("", perform, service="business-registration")
    for answer in answers:
        chat.run(answer, perform)


FULL_REGISTRATION = [CID, "Pema Tshering Wangmo Dorji Enterprises", "3", "ok", "16", "14"]
FULL_REGISTRATION += ["+975 17 12 34 56", "1", "1"]


def test_business_registration_end_to_end(services_catalog: Catalog) -> None:
    chat = Chat(services_catalog)
    perform = Perform(
        lookups={
            "citizen": LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})
        }
    )
    _register(chat, perform, FULL_REGISTRATION)
    assert chat.snap.ended
    assert (
        chat.screen
        == "Registered! Number REF-1. Your certificate is sent by SMS.\nhttps://docs.example/REF-1"
    )
    assert chat.last is not None
    assert chat.last.replies[-1].link == "https://docs.example/REF-1"
    submission = perform.performed[-1]
    assert isinstance(submission, Submission)
    assert submission.idempotency_key == "conv-1:business-registration:1:submit"
    assert submission.mode == "instant"
    assert submission.reference_prefix == "BR"
    assert submission.answers["location"] == "thimphu"
    assert submission.answers["contact_phone"] == "+97517123456"
    assert submission.document == {
        "title": "Certificate of Business Registration",
        "issuer": "Ministry of Industry, Commerce and Employment",
        "holder": "Pema Wangmo",
        "fields": [
            {"label": "Business name", "value": "Pema Tshering Wangmo Dorji Enterprises"},
            {"label": "Type", "value": "Medium"},
            {"label": "Activity", "value": "Poultry farming"},
            {"label": "Dzongkhag", "value": "Thimphu"},
        ],
    }


def test_declining_submits_nothing(services_catalog: Catalog) -> None:
    chat = Chat(services_catalog)
    perform = Perform()
    _register(chat, perform, [*FULL_REGISTRATION[:-1], "2"])
    assert chat.screen == "Registration cancelled. Nothing was submitted."
    assert not any(isinstance(e, Submission) for e in perform.performed)


@pytest.mark.parametrize("channel", sorted(PROFILES))
@pytest.mark.parametrize("lang", ["en", "dz"])
def test_snapshot_stays_small_and_round_trips(
    services_catalog: Catalog, channel: Medium, lang: str
) -> None:
    chat = Chat(services_catalog, channel=channel, lang=lang, conversation_id="x" * 64)
    perform = Perform(lookups={"citizen": LookupResult(ok=False, error="not found")})
    answers = [CID, "ཚེ་རིང་དབང་མོ་ཚེ་རིང་དབང་མོ་ཚེ་རིང་དབང", "ཚོང་ཁང་" * 5, "1", "16", "14"]
    answers += ["17123456", "2", "1", "x" * 40, "1", "1"]  # change the business name
    sizes: list[int] = []
    for index, answer in enumerate(["", *answers]):
        if index == 0:
            chat.run("", perform, service="business-registration")
        else:
            chat.run(answer, perform)
        data = chat.snap.to_json().encode("utf-8")
        sizes.append(len(data))
        assert Snapshot.from_json(data) == chat.snap
    assert chat.snap.ended, chat.screen
    assert max(sizes) <= 2048, sizes


# ------------------------------------------------------------------ versions
def test_a_conversation_keeps_its_version_after_a_new_one_is_published() -> None:
    v1 = Catalog.of([compile_yaml(FISHING_V1)])
    chat = Chat(v1)
    chat.send("")
    chat.send("Pema")
    assert (chat.snap.version, chat.snap.step) == (1, "river")
    chat.catalog = v1.publish(compile_yaml(FISHING_V2))
    chat.send("1")
    assert (chat.snap.version, chat.snap.step) == (1, "days")
    # a new conversation starts on version 2
    other = Chat(chat.catalog, conversation_id="conv-2")
    other.send("")
    assert (other.snap.version, other.screen) == (2, "Your angler licence number")


def test_a_released_version_restarts_on_the_published_one() -> None:
    catalog = Catalog.of([compile_yaml(FISHING_V1)])
    chat = Chat(catalog)
    chat.send("")
    chat.send("Pema")
    chat.catalog = catalog.publish(compile_yaml(FISHING_V2)).release("fishing-permit", 1)
    chat.send("1")
    assert chat.snap.version == 2
    assert chat.snap.step == "licence_no"
    assert chat.snap.answers == {}
    assert chat.screen == "Your angler licence number"


def test_a_withdrawn_service_goes_back_to_the_menu() -> None:
    chat = Chat(small_catalog())
    chat.send("", service="pet-licence")
    chat.catalog = Catalog.of([compile_yaml(FISHING_V1), compile_yaml(FISHING_V2)])
    chat.send(CID)
    assert chat.snap.service == "fishing-permit"
    assert chat.snap.version == 2


# ------------------------------------------------------------------ purity
def test_the_engine_never_mutates_the_input_snapshot() -> None:
    catalog = small_catalog()
    inputs: list[Inbound] = []
    texts = ["", "1", "Pema", "3", "1", "0", "2", "4", "2", "2", "3", "1", "00", "2", CID]
    for text in texts:
        inputs.append(Inbound(text=text, medium=Medium.USSD, now=NOW, conversation_id="c"))
    inputs.append(
        Inbound(
            medium=Medium.USSD,
            now=NOW,
            conversation_id="c",
            result=LookupResult(ok=True, data={"name": "D", "mobile": CENSUS_MOBILE}),
        )
    )
    inputs.append(Inbound(text="Tashi", medium=Medium.USSD, now=NOW, conversation_id="c"))
    inputs.append(
        Inbound(medium=Medium.USSD, now=NOW, conversation_id="c", result=SubmissionResult(ok=False))
    )
    inputs.append(
        Inbound(
            medium=Medium.USSD,
            now=NOW,
            conversation_id="c",
            result=SubmissionResult(ok=True, reference="R"),
        )
    )
    snapshot: Snapshot | None = None
    for inbound in inputs:
        frozen = copy.deepcopy(snapshot)
        json_before = snapshot.to_json() if snapshot else None
        outcome = act(catalog, snapshot, inbound)
        assert snapshot == frozen
        assert (snapshot.to_json() if snapshot else None) == json_before
        snapshot = outcome.snapshot
    assert snapshot is not None
    assert snapshot.step == "receipt"


def test_the_same_input_gives_the_same_outcome() -> None:
    catalog = small_catalog()
    snapshot = act(
        catalog, None, Inbound(medium=Medium.SMS, text="", service="fishing-permit", now=NOW)
    ).snapshot
    inbound = Inbound(medium=Medium.SMS, text="Pema", now=NOW, conversation_id="c")
    assert act(catalog, snapshot, inbound) == act(catalog, snapshot, inbound)


def test_time_comes_from_the_inbound_message() -> None:
    later = datetime(2027, 6, 1, 12, 0)
    chat = Chat(small_catalog(), now=later)
    outcome = chat.send("", service="fishing-permit")
    assert chat.snap.started == later.isoformat()
    assert outcome.events[0]["at"] == later.isoformat()


def test_a_new_branch_with_a_notice_shows_it_then_returns(services_catalog: Catalog) -> None:
    chat = Chat(services_catalog)
    perform = Perform(
        lookups={"citizen": LookupResult(ok=True, data={"name": "Pema", "mobile": CENSUS_MOBILE})}
    )
    _register(chat, perform, [CID, "Shop", "2", "3", "14", "17123456"])
    assert chat.snap.step == "review"
    assert "Type: Small" in chat.screen
    chat.run("2", perform)
    chat.run("2", perform)  # Type
    chat.run("3", perform)  # Medium: its branch has a notice
    assert chat.snap.step == "medium_notice"
    assert chat.screen.startswith("Medium businesses also need an environmental clearance")
    chat.run("ok", perform)
    assert chat.snap.step == "review"
    assert "Type: Medium" in chat.screen
    assert "Activity: Tailoring" in chat.screen


_ASKED = "".join(
    f"""
  - id: answer_{n}
    type: text
    label: Answer number {n}
    prompt: Answer {n}
    max_length: 30"""
    for n in range(1, 5)
)
LONG_SUMMARY = f"""
format: 1
id: long-summary
version: 1
title: Long summary
steps:{_ASKED}
  - id: review
    type: summary
    prompt: Check your application
  - id: done
    type: end
    prompt: Thank you.
"""


def test_every_page_of_a_long_ussd_summary_shows_its_keys_and_one_confirms() -> None:
    chat = Chat(Catalog.of([compile_yaml(LONG_SUMMARY)]), channel=Medium.USSD)
    chat.send("")
    for n in range(1, 5):
        chat.send(f"Answer {n} is this long sentence")
    assert chat.snap.step == "review"
    first = chat.screen
    chat.send("98")
    assert chat.snap.page == 1
    second = chat.screen
    assert "Answer number 4: Answer 4" in second  # two pages hold the summary
    for screen in (first, second):
        assert len(screen) <= 182, screen
        assert "1. Confirm\n2. Change an answer" in screen
    assert first.startswith("Check your application\nAnswer number 1:")
    assert first.endswith("\n98. More\n0. Back")
    assert second.endswith("2. Change an answer\n0. Back")
    chat.send("0")  # back to page 1, where "1" confirms as it says
    assert chat.snap.page == 0
    assert chat.screen == first
    outcome = chat.send("1")
    assert chat.screen == "Thank you."
    assert outcome.replies[-1].end
