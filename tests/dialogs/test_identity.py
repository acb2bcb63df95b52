"""Who applies: a number proved by a code, a registry confirming the applicant, and what
the submission says about both.

On the web chat and Telegram nobody gives the citizen's number: the engine asks for one
and a code sent to it before a registry or a submission relies on it. On USSD, SMS and
WhatsApp the operator gives it and nothing is asked. A small land-record service issues
at once when the census confirms the applicant, and sends everyone else to an officer.
"""

from __future__ import annotations

import textwrap

import pytest

from dialogs.catalog import Catalog
from dialogs.conversation_tests import TEST_CODE, parse_tests, run_file
from dialogs.media import Medium
from dialogs.messages import (
    CheckCode,
    CodeChecked,
    CodeSent,
    LookupRequest,
    LookupResult,
    ReplyOption,
    SendCode,
    StatusResult,
    Submission,
    SubmissionResult,
)
from dialogs.session import AskingCode, AskingNumber, Awaiting, SendingCode, State
from tests.dialogs.helpers import CENSUS_MOBILE, Chat, compile_yaml

CID = "11512000123"
OTHER_MOBILE = "+97577123456"
ASK_NUMBER = "To continue, enter your mobile number. We will send it a 6-digit code by SMS."
ASK_CODE = f"Enter the 6-digit code we sent to {CENSUS_MOBILE}."
CITIZEN = {"name": "Dorji", "mobile": CENSUS_MOBILE}

LAND_RECORD = """
format: 1
id: land-record
version: 1
title: Land record
steps:
  - id: cid
    type: national_id
    prompt: Citizenship ID
  - id: citizen
    type: lookup
    url: "https://census.example/api/{{ answers.cid }}"
    fields: [name, mobile]
    confirms_identity: true
    registered_phone: mobile
    on_error: name
    next: plot
  - id: name
    type: text
    prompt: Your name
  - id: plot
    type: text
    prompt: "{% if answers.citizen.name %}Welcome {{ answers.citizen.name }}. {% endif %}Plot"
    next:
      - if: answers.citizen
        goto: submit
      - goto: submit_review
  - id: submit
    type: submit
    mode: instant
    reference_prefix: LR
    next: done
  - id: done
    type: end
    prompt: "Issued {{ submission.reference }}"
  - id: submit_review
    type: submit
    mode: review
    reference_prefix: LR
    next: done_review
  - id: done_review
    type: end
    prompt: "Received {{ submission.reference }}"
"""

# A permit with no registry at all: only the submission needs a proved number.
PERMIT = """
format: 1
id: permit
version: 1
title: Permit
steps:
  - id: holder_cid
    type: national_id
    prompt: Citizenship ID
  - id: purpose
    type: text
    prompt: Purpose
  - id: submit
    type: submit
    mode: instant
    assurance: self-declared
    reference_prefix: PM
  - id: done
    type: end
    prompt: "Permit {{ submission.reference }}"
"""


def land_chat(channel: Medium = Medium.WEB, phone: str | None = None) -> Chat:
    chat = Chat(Catalog.of([compile_yaml(LAND_RECORD)]), channel=channel, phone=phone)
    chat.send("")
    return chat


def events(chat: Chat) -> list[tuple[str, object]]:
    assert chat.last is not None
    return [(e["event"], e.get("reason")) for e in chat.last.events]


def to_number(chat: Chat) -> None:
    chat.send(CID)
    assert chat.snap.state == AskingNumber()


def to_code(chat: Chat, number: str = "17123456") -> None:
    to_number(chat)
    chat.send(number)
    chat.send(result=CodeSent(ok=True))
    assert isinstance(chat.snap.state, AskingCode)


def proved(chat: Chat, number: str = "17123456") -> None:
    to_code(chat, number)
    chat.send(TEST_CODE)
    chat.send(result=CodeChecked(ok=True))


def refused(chat: Chat, typed: str, screen: str, waiting: type[State]) -> None:
    """`typed` is refused: `screen` says why and asks again, nothing is done, and the
    chat still waits for the number or the code (`waiting`)."""
    outcome = chat.send(typed)
    assert chat.screen == screen
    assert outcome.effects == ()
    assert isinstance(chat.snap.state, waiting)


def confirmed_at_the_submit() -> Chat:
    """Over SMS, the census confirming the applicant, the plot given: the chat has
    reached the instant submit."""
    chat = land_chat(Medium.SMS, phone=CENSUS_MOBILE)
    chat.send(CID)
    chat.send(result=LookupResult(ok=True, data=CITIZEN))
    chat.send("P-12")
    return chat


def submission(chat: Chat) -> Submission:
    assert chat.last is not None
    (effect,) = chat.last.effects
    assert isinstance(effect, Submission)
    return effect


# ------------------------------------------------------------------ asking for a number
@pytest.mark.parametrize("channel", [Medium.WEB, Medium.TELEGRAM])
def test_a_registry_check_first_asks_for_a_number_on_the_web_and_telegram(channel: Medium) -> None:
    chat = land_chat(channel)
    outcome = chat.send(CID)
    assert chat.screen == ASK_NUMBER
    assert (chat.snap.step, chat.snap.state) == ("citizen", AskingNumber())
    assert outcome.effects == ()  # the registry waits for a proved number
    assert events(chat) == [("answered", None), ("verification_asked", None)]


@pytest.mark.parametrize("channel", [Medium.USSD, Medium.SMS, Medium.WHATSAPP])
def test_the_operator_gives_the_number_elsewhere_so_none_is_asked(channel: Medium) -> None:
    chat = land_chat(channel, phone=CENSUS_MOBILE)
    outcome = chat.send(CID)
    assert chat.snap.state == Awaiting()
    assert [type(e) for e in outcome.effects] == [LookupRequest]


def test_a_number_proved_earlier_is_not_asked_again() -> None:
    chat = land_chat(Medium.WEB, phone=CENSUS_MOBILE)
    outcome = chat.send(CID)
    assert [type(e) for e in outcome.effects] == [LookupRequest]


def test_a_lookup_that_checks_no_number_runs_at_once_on_the_web() -> None:
    plain = LAND_RECORD.replace("    registered_phone: mobile\n", "")
    chat = Chat(Catalog.of([compile_yaml(plain)]), channel=Medium.WEB, phone=None)
    chat.send("")
    outcome = chat.send(CID)
    assert [type(e) for e in outcome.effects] == [LookupRequest]


def test_a_valid_number_is_sent_a_code_in_international_form() -> None:
    chat = land_chat()
    to_number(chat)
    outcome = chat.send("17 12 34 56")  # a Bhutanese mobile: the service's region
    assert outcome.effects == (SendCode(CENSUS_MOBILE, "en"),)
    assert outcome.replies == ()
    assert chat.snap.state == SendingCode(CENSUS_MOBILE)


def test_an_invalid_number_is_refused_with_an_example() -> None:
    chat = land_chat()
    to_number(chat)
    why = "Please enter a valid mobile number, e.g. 17 12 34 56."
    refused(chat, "1234", f"{why}\n{ASK_NUMBER}", AskingNumber)


def test_the_code_screen_offers_a_new_code_or_another_number() -> None:
    chat = land_chat()
    to_code(chat)
    assert chat.screen == ASK_CODE
    assert chat.last is not None
    assert chat.last.replies[-1].options == (
        ReplyOption("1", "Send a new code"),
        ReplyOption("2", "Use another number"),
    )


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("too_many", "Too many codes were asked for. Please try again later."),
        ("not_allowed", "We cannot send a code to that number. Enter another one."),
        ("unavailable", "We cannot send codes right now. Please try again later."),
        ("", "We cannot send codes right now. Please try again later."),
    ],
)
def test_a_code_that_could_not_be_sent_asks_for_the_number_again(reason: str, said: str) -> None:
    chat = land_chat()
    to_number(chat)
    chat.send("17123456")
    chat.send(result=CodeSent(ok=False, reason=reason))
    assert chat.screen == f"{said}\n{ASK_NUMBER}"
    assert chat.snap.state == AskingNumber()
    assert events(chat) == [("verification_failed", reason or "unavailable")]


# ------------------------------------------------------------------ the code
def test_six_digits_are_checked_for_the_number_the_code_went_to() -> None:
    chat = land_chat()
    to_code(chat, "77 12 34 56")
    outcome = chat.send("123 456")
    assert outcome.effects == (CheckCode(OTHER_MOBILE, "123456"),)


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "12 34"])
def test_an_answer_that_is_not_six_digits_is_not_checked(typed: str) -> None:
    chat = land_chat()
    to_code(chat)
    refused(chat, typed, f"The code has 6 digits.\n{ASK_CODE}", AskingCode)


def test_the_right_code_proves_the_number_and_the_registry_is_asked() -> None:
    chat = land_chat()
    to_code(chat)
    chat.send(TEST_CODE)
    outcome = chat.send(result=CodeChecked(ok=True))
    assert chat.snap.phone == CENSUS_MOBILE
    assert [r.text for r in outcome.replies] == ["Thank you, your number is confirmed."]
    assert [type(e) for e in outcome.effects] == [LookupRequest]
    assert (chat.snap.step, chat.snap.state) == ("citizen", Awaiting())
    assert events(chat) == [("verified", None)]


def test_a_wrong_code_says_how_many_tries_are_left() -> None:
    chat = land_chat()
    to_code(chat)
    chat.send("000000")
    chat.send(result=CodeChecked(ok=False, reason="wrong", tries_left=3))
    assert chat.screen == f"That code is not right. 3 tries left.\n{ASK_CODE}"
    assert chat.snap.state == AskingCode(CENSUS_MOBILE)
    assert chat.snap.phone == ""
    assert events(chat) == [("verification_failed", "wrong")]


@pytest.mark.parametrize(
    "result",
    [
        CodeChecked(ok=False, reason="expired"),
        CodeChecked(ok=False, reason="locked"),
        CodeChecked(ok=False, reason="wrong", tries_left=0),
    ],
)
def test_a_code_that_can_no_longer_be_used_says_to_ask_a_new_one(result: CodeChecked) -> None:
    chat = land_chat()
    to_code(chat)
    chat.send("000000")
    chat.send(result=result)
    assert chat.screen == (f"That code can no longer be used. Choose 1 for a new code.\n{ASK_CODE}")
    assert chat.snap.state == AskingCode(CENSUS_MOBILE)


def test_one_sends_a_new_code_and_says_so() -> None:
    chat = land_chat()
    to_code(chat)
    outcome = chat.send("1")
    assert outcome.effects == (SendCode(CENSUS_MOBILE, "en"),)
    chat.send(result=CodeSent(ok=True))
    assert chat.screen == f"We sent a new code.\n{ASK_CODE}"
    assert chat.snap.state == AskingCode(CENSUS_MOBILE)


def test_two_asks_for_another_number() -> None:
    chat = land_chat()
    to_code(chat)
    outcome = chat.send("2")
    assert chat.screen == ASK_NUMBER
    assert chat.snap.state == AskingNumber()
    assert outcome.effects == ()


def test_a_submit_step_asks_for_a_number_even_without_a_registry() -> None:
    chat = Chat(Catalog.of([compile_yaml(PERMIT)]), channel=Medium.WEB, phone=None)
    chat.send("")
    chat.send(CID)
    outcome = chat.send("Firewood")
    assert (chat.snap.step, chat.snap.state) == ("submit", AskingNumber())
    assert outcome.effects == ()
    chat.send("17123456")
    chat.send(result=CodeSent(ok=True))
    chat.send(TEST_CODE)
    chat.send(result=CodeChecked(ok=True))
    assert submission(chat).phone == CENSUS_MOBILE  # the proved number goes with it


def test_a_number_proved_once_is_not_asked_again_at_the_submit() -> None:
    chat = land_chat()
    proved(chat)
    chat.send(result=LookupResult(ok=True, data=CITIZEN))
    chat.send("P-12")
    assert submission(chat).phone == CENSUS_MOBILE
    assert chat.snap.state == Awaiting()


# ------------------------------------------------------------------ the registry's record
def test_a_record_holding_the_proved_number_confirms_the_applicant() -> None:
    chat = land_chat()
    proved(chat)
    outcome = chat.send(result=LookupResult(ok=True, data=CITIZEN))
    assert chat.snap.answers["citizen"] == {"name": "Dorji"}  # the number is not kept
    assert chat.screen == "Welcome Dorji. Plot"
    assert [(e["event"], e["ok"]) for e in outcome.events] == [("lookup", True)]


@pytest.mark.parametrize("written", ["97517123456", "+975 17-12-34-56", "(975) 1712 3456"])
def test_a_registry_number_counts_by_its_digits(written: str) -> None:
    chat = land_chat(Medium.SMS, phone=CENSUS_MOBILE)
    chat.send(CID)
    chat.send(result=LookupResult(ok=True, data={"name": "Dorji", "mobile": written}))
    assert chat.snap.answers["citizen"] == {"name": "Dorji"}
    assert chat.snap.step == "plot"


def test_a_record_registered_to_another_number_is_not_the_applicant() -> None:
    chat = land_chat(Medium.SMS, phone=CENSUS_MOBILE)
    chat.send(CID)
    outcome = chat.send(
        result=LookupResult(ok=True, data={"name": "Dorji", "mobile": OTHER_MOBILE})
    )
    assert chat.snap.step == "name"  # on_error: the name is typed, an officer checks
    assert "citizen" not in chat.snap.answers
    assert chat.screen == "Your name"
    (event,) = outcome.events
    assert (event["event"], event["ok"], event["reason"]) == ("lookup", False, "identity_mismatch")


def test_the_number_compared_on_the_web_is_the_one_proved_by_the_code() -> None:
    chat = land_chat()
    proved(chat, "77123456")  # the citizen proved another number than the census holds
    chat.send(result=LookupResult(ok=True, data=CITIZEN))
    assert chat.snap.step == "name"
    assert events(chat) == [("lookup", "identity_mismatch")]


def test_no_record_counts_when_the_operator_gave_no_number() -> None:
    chat = land_chat(Medium.USSD, phone=None)
    outcome = chat.send(CID)
    assert [type(e) for e in outcome.effects] == [LookupRequest]  # never asked on USSD
    chat.send(result=LookupResult(ok=True, data=CITIZEN))
    assert chat.snap.step == "name"
    assert events(chat) == [("lookup", "identity_mismatch")]


def test_a_record_not_found_is_a_plain_failure_not_a_mismatch() -> None:
    chat = land_chat(Medium.SMS, phone=CENSUS_MOBILE)
    chat.send(CID)
    outcome = chat.send(result=LookupResult(ok=False, error="not found"))
    assert chat.snap.step == "name"
    (event,) = outcome.events
    assert (event["event"], event["ok"], "reason" in event) == ("lookup", False, False)


# ------------------------------------------------------------------ submissions
def test_a_confirmed_applicant_is_issued_at_once_on_the_registrys_word() -> None:
    chat = confirmed_at_the_submit()
    effect = submission(chat)
    assert (effect.step, effect.mode, effect.flags) == ("submit", "instant", ())
    assert effect.assurance == "registry"
    assert effect.applicant_id == CID
    assert effect.phone == CENSUS_MOBILE


def test_an_unconfirmed_applicant_goes_to_review_as_self_declared() -> None:
    chat = land_chat(Medium.SMS, phone=CENSUS_MOBILE)
    chat.send(CID)
    chat.send(result=LookupResult(ok=True, data={"name": "Dorji", "mobile": OTHER_MOBILE}))
    chat.send("Dorji Wangchuk")
    chat.send("P-12")
    effect = submission(chat)
    assert (effect.step, effect.mode, effect.flags) == ("submit_review", "review", ())
    assert effect.assurance == "self-declared"
    assert effect.applicant_id == CID


# The checker refuses this definition (E261): the engine must stay safe with it anyway.
UNGUARDED = LAND_RECORD.replace(
    """    next:
      - if: answers.citizen
        goto: submit
      - goto: submit_review
""",
    "    next: submit\n",
)


@pytest.mark.parametrize(
    ("definition", "result"),
    [
        (UNGUARDED, LookupResult(ok=False, error="timeout")),
        (
            UNGUARDED.replace("    confirms_identity: true\n", ""),
            LookupResult(ok=True, data=CITIZEN),
        ),
    ],
    ids=["failed-lookup", "lookup-not-confirming"],
)
def test_an_instant_submit_reached_unconfirmed_is_sent_to_an_officer(
    definition: str, result: LookupResult
) -> None:
    chat = Chat(Catalog.of([compile_yaml(definition)]), phone=CENSUS_MOBILE)
    chat.send("")
    chat.send(CID)
    chat.send(result=result)
    if chat.snap.step == "name":
        chat.send("Dorji")
    chat.send("P-12")
    effect = submission(chat)
    assert effect.step == "submit"
    assert effect.mode == "review"
    assert effect.flags == ("identity_unconfirmed",)
    assert effect.assurance == "self-declared"


def test_a_self_declared_instant_submit_stays_instant() -> None:
    chat = Chat(Catalog.of([compile_yaml(PERMIT)]), phone=CENSUS_MOBILE)
    chat.send("")
    chat.send(CID)
    chat.send("Firewood")
    effect = submission(chat)
    assert (effect.mode, effect.flags, effect.assurance) == ("instant", (), "self-declared")
    assert effect.applicant_id == CID  # the first national_id step answered


TWO_IDS = """
format: 1
id: guardian
version: 1
title: Guardian form
steps:
  - id: minor
    type: yes_no
    prompt: Is the applicant a minor?
    next:
      - if: answers.minor
        goto: guardian_cid
      - goto: applicant_cid
  - id: guardian_cid
    type: national_id
    prompt: Guardian's citizenship ID
  - id: applicant_cid
    type: national_id
    prompt: Applicant's citizenship ID
  - id: submit
    type: submit
    mode: review
    reference_prefix: GF
  - id: done
    type: end
    prompt: Done
"""


@pytest.mark.parametrize(
    ("named", "answers", "expected"),
    [
        (None, ["2", CID], CID),  # the guardian's step was not answered: the next one
        (None, ["1", "11512000999", CID], "11512000999"),  # the first answered, in order
        ("applicant_cid", ["1", "11512000999", CID], CID),  # the step the submit names
    ],
)
def test_applicant_id_is_the_named_answer_or_the_first_citizenship_id(
    named: str | None, answers: list[str], expected: str
) -> None:
    definition = TWO_IDS
    if named is not None:
        definition = TWO_IDS.replace(
            "    mode: review\n", f"    mode: review\n    applicant_id: {named}\n"
        )
    chat = Chat(Catalog.of([compile_yaml(definition)]))
    chat.send("")
    for answer in answers:
        chat.send(answer)
    assert submission(chat).applicant_id == expected


def test_applicant_id_is_none_when_no_citizenship_id_was_asked() -> None:
    no_id = PERMIT.replace("type: national_id", "type: text")
    chat = Chat(Catalog.of([compile_yaml(no_id)]))
    chat.send("")
    chat.send("anything")
    chat.send("Firewood")
    assert submission(chat).applicant_id is None


def test_too_many_applications_end_the_conversation() -> None:
    chat = confirmed_at_the_submit()
    outcome = chat.send(result=SubmissionResult(ok=False, refused="limit"))
    assert chat.screen == (
        "You have made too many applications for this service lately. Please contact the office."
    )
    assert outcome.replies[-1].end
    assert chat.snap.ended
    assert chat.snap.submission is None
    assert events(chat) == [("submit_refused", "limit")]


def test_a_held_link_is_announced_on_its_own_line_at_the_end() -> None:
    chat = confirmed_at_the_submit()
    held = SubmissionResult(ok=True, reference="LR-1", link="https://docs.example/LR-1", held=True)
    outcome = chat.send(result=held)
    assert outcome.replies[-1].text == (
        "Issued LR-1\nYou opted out of SMS: send START to get your link."
    )
    assert outcome.replies[-1].end
    assert chat.snap.ended


def test_a_link_not_held_adds_nothing_to_the_end() -> None:
    chat = confirmed_at_the_submit()
    outcome = chat.send(result=SubmissionResult(ok=True, reference="LR-1"))
    assert outcome.replies[-1].text == "Issued LR-1"


# ------------------------------------------------------------------ conversation tests
def _tests_file(case: str) -> str:
    return "service: land-record\ncases:\n" + textwrap.indent(textwrap.dedent(case), "  ")


PROVED_ON_THE_WEB = """
- name: the number is proved by the test code
  channels: [web, telegram]
  proved: false
  lookups:
    citizen: {data: {name: Dorji, mobile: "+97517123456"}}
  steps:
    - {}
    - send: "11512000123"
      screen_contains: enter your mobile number
      at: citizen
    - send: "17123456"
      screen_contains: Enter the 6-digit code we sent to +97517123456.
    - send: "%s"
      screen_contains: [%s]
      at: %s
"""


def _run(case: str) -> list[tuple[str, list[str]]]:
    tests, problems = parse_tests(_tests_file(case), "land-record.tests.yaml")
    assert tests is not None, [p.format() for p in problems]
    assert [c.proved for c in tests.cases] == [False]
    catalog = Catalog.of([compile_yaml(LAND_RECORD)])
    return [(r.medium, r.failures) for r in run_file(catalog, tests)]


def test_a_conversation_test_proves_a_number_with_the_test_code() -> None:
    case = PROVED_ON_THE_WEB % (TEST_CODE, "your number is confirmed, Welcome Dorji", "plot")
    assert _run(case) == [("web", []), ("telegram", [])]


def test_a_conversation_test_sees_a_wrong_code_refused() -> None:
    case = PROVED_ON_THE_WEB % ("000000", "not right, 4 tries left", "citizen")
    assert _run(case) == [("web", []), ("telegram", [])]


def test_a_conversation_test_fails_when_a_wrong_code_is_expected_to_pass() -> None:
    case = PROVED_ON_THE_WEB % ("000000", "your number is confirmed", "plot")
    results = _run(case)
    assert [channel for channel, _ in results] == ["web", "telegram"]
    for _, failures in results:
        assert len(failures) == 2
        assert "screen does not contain 'your number is confirmed'" in failures[0]
        assert "not right" in failures[0]  # the screen shown instead
        assert failures[1] == "step 4 (after '000000'): at step 'citizen', expected 'plot'"


def test_proved_false_asks_nothing_where_the_operator_gives_the_number() -> None:
    case = """
    - name: the operator's number is used
      channels: [ussd, sms, whatsapp]
      proved: false
      lookups:
        citizen: {data: {name: Dorji, mobile: "+97517123456"}}
      steps:
        - {}
        - send: "11512000123"
          screen_contains: Welcome Dorji
          at: plot
    """
    assert _run(case) == [("ussd", []), ("sms", []), ("whatsapp", [])]


# ------------------------------------------------------------------ found in review
@pytest.mark.parametrize("code", ["000001", "000002"])
def test_a_code_that_looks_like_a_menu_choice_is_checked_as_a_code(code: str) -> None:
    chat = land_chat()
    to_code(chat)
    outcome = chat.send(code)
    assert outcome.effects == (CheckCode(CENSUS_MOBILE, code),)


@pytest.mark.parametrize("mode", ["phone", "code"])
def test_status_asked_while_a_number_is_proved_asks_the_number_again(mode: str) -> None:
    chat = land_chat()
    to_number(chat) if mode == "phone" else to_code(chat)
    chat.send("status")
    chat.send(result=StatusResult(ok=True))
    assert chat.snap.state == AskingNumber()
    assert chat.screen == ASK_NUMBER
    chat.send("17123456")  # goes on as before
    assert chat.last is not None
    assert chat.last.effects == (SendCode(CENSUS_MOBILE, "en"),)


def test_the_registered_number_counts_even_when_fields_leave_it_out() -> None:
    service = LAND_RECORD.replace("fields: [name, mobile]", "fields: [name]")
    chat = Chat(Catalog.of([compile_yaml(service)]), channel=Medium.SMS, phone=CENSUS_MOBILE)
    chat.send("")
    chat.send(CID)
    chat.send(result=LookupResult(ok=True, data=CITIZEN))
    assert chat.snap.answers["citizen"] == {"name": "Dorji"}
    assert chat.snap.step == "plot"
