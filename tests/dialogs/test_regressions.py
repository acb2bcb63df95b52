"""Regression tests for bugs found while writing the dialogs tests (all fixed): odd digits,
repeated effect results, paging after an error, help while a submission waits, the
remembered language, and method calls in expressions.
"""

from __future__ import annotations

import pytest

from dialogs.catalog import Catalog
from dialogs.conversation_tests import parse_tests
from dialogs.expressions import references
from dialogs.media import Medium
from dialogs.messages import LookupResult, Submission, SubmissionResult
from dialogs.session import ChoosingField
from dialogs.steps.base import Rejected
from dialogs.steps.choice import ChoiceStep
from gateway.catalog.repository import load_repository
from tests.dialogs.helpers import (
    CENSUS_MOBILE,
    SERVICES_DIR,
    Chat,
    compile_yaml,
    make_step,
    small_catalog,
    step_context,
)

# Characters for which str.isdigit() is true but int() fails (superscripts, circled digits).
NOT_DECIMAL_DIGITS = ["²", "³¹", "①", "⁴²"]


@pytest.mark.parametrize("typed", NOT_DECIMAL_DIGITS)
def test_choice_refuses_superscript_digits(typed: str) -> None:
    """dialogs/steps/choice.py `parse`: `answer.isdigit()` then `int(answer)` raises
    ValueError for "²". Expected Rejected("bad_choice")."""
    step = make_step({"id": "c", "type": "choice", "prompt": "?", "options": ["A", "B", "C"]})
    assert isinstance(step, ChoiceStep)
    assert step.parse(typed, step_context()) == Rejected("bad_choice")


@pytest.mark.parametrize("typed", NOT_DECIMAL_DIGITS)
def test_menu_refuses_superscript_digits(typed: str) -> None:
    """dialogs/engine.py `_pick` (main menu, language list, summary field list): same
    isdigit()/int() crash; the engine raises instead of showing "bad_choice"."""
    chat = Chat(small_catalog())
    chat.send("")
    chat.send(typed)
    assert chat.screen.startswith("Please reply with one of the numbers shown.\n")


def test_summary_field_list_refuses_superscript_digits() -> None:
    chat = Chat(small_catalog())
    chat.send("", service="fishing-permit")
    for answer in ("Pema", "1", "5", "2"):
        chat.send(answer)
    assert chat.snap.state == ChoosingField()
    chat.send("²")
    assert chat.screen.startswith("Please reply with one of the numbers shown.\n")


def test_a_repeated_submission_result_after_the_end_is_ignored() -> None:
    """dialogs/engine.py `step`: a snapshot that has ended always begins a new conversation,
    even for an effect result. A duplicate SubmissionResult (at-least-once delivery) after
    `submit -> end` starts a new conversation and sends the citizen a menu unasked.
    Expected: nothing happens (same snapshot, no reply), as for a result at any other step."""
    catalog = Catalog.of([compile_yaml(_SUBMIT_THEN_END)])
    chat = Chat(catalog)
    chat.send("")
    chat.send("Tashi")
    result = SubmissionResult(ok=True, reference="PL-1", status="issued")
    chat.send(result=result)
    assert chat.snap.ended
    assert chat.screen == "Reference PL-1"
    before = chat.snap
    repeated = chat.send(result=result)
    assert repeated.replies == ()
    assert repeated.snapshot == before


_SUBMIT_THEN_END = """
format: 1
id: pet-simple
version: 1
title: Pet licence
steps:
  - id: pet
    type: text
    prompt: Pet name
  - id: submit
    type: submit
    mode: review
    reference_prefix: PL
  - id: done
    type: end
    prompt: "Reference {{ submission.reference }}"
"""

_LONG_PROMPT = "Which office should handle your application? " + (
    "Please read the options carefully before you answer. " * 2
)
_PAGED = f"""
format: 1
id: office-choice
version: 1
title: Office
steps:
  - id: office
    type: choice
    prompt: "{_LONG_PROMPT.strip()[:125]}"
    options: [North, South, East]
  - id: district
    type: choice
    prompt: Pick your district office from the list below.
    options: [Bumthang, Chhukha, Dagana, Gasa, Haa, Lhuentse, Mongar, Paro, Pemagatshel,
              Punakha, Samdrup Jongkhar, Samtse, Sarpang, Thimphu, Trashigang, Trongsa]
  - id: done
    type: end
    prompt: Done
"""


def test_more_after_an_error_pages_the_error_screen() -> None:
    """dialogs/engine.py `command`/`say`: after an invalid answer the screen shown is
    "error + screen", paged on its own; but "98" is checked against (and pages) the screen
    WITHOUT the error. When only the longer screen needs two pages, "98" is read as an
    answer: the error comes back and "3. East" can never be seen (a loop)."""
    chat = Chat(Catalog.of([compile_yaml(_PAGED)]), channel=Medium.USSD)
    chat.send("")
    assert "3. East" in chat.screen  # fits on one screen without the error
    chat.send("x")
    assert chat.screen.endswith("98. More")
    chat.send("98")
    assert "3. East" in chat.screen
    assert chat.snap.invalid == 1


def test_more_after_an_error_does_not_skip_options() -> None:
    """Same cause: when both screens need pages, "98" shows page 2 of the screen without
    the error, so options at the end of the error's page 1 (8. Paro, 9. Pemagatshel,
    10. Punakha) are never shown."""
    chat = Chat(Catalog.of([compile_yaml(_PAGED)]), channel=Medium.USSD)
    chat.send("")
    chat.send("1")
    seen = [chat.screen]
    chat.send("x")
    seen.append(chat.screen)
    while "98. More" in chat.screen:
        chat.send("98")
        seen.append(chat.screen)
    shown = "\n".join(seen[1:])  # what the citizen sees from the error on
    for line in ("8. Paro", "9. Pemagatshel", "10. Punakha", "16. Trongsa"):
        assert line in shown


def test_help_while_a_submission_waits_for_a_retry_gets_a_reply() -> None:
    """dialogs/engine.py `command` (help) -> `show` -> `screen()` returns None at an effect
    step: after a failed submission ("Reply anything to retry"), "help" or "?" produce no
    reply and no retry. Expected: a reply (the help or the wait text) or the retry effect."""
    chat = Chat(small_catalog())
    chat.send("", service="pet-licence")
    chat.send("11512000123")
    chat.send(result=LookupResult(ok=True, data={"name": "Dorji", "mobile": CENSUS_MOBILE}))
    chat.send("Tashi")
    chat.send(result=SubmissionResult(ok=False))
    outcome = chat.send("help")
    assert outcome.replies or outcome.effects


def test_language_choice_survives_an_english_only_service() -> None:
    """dialogs/engine.py `start`: entering a service without the chosen language overwrites
    `snapshot.lang` with "en", so the citizen's Dzongkha choice is lost for the rest of the
    conversation: back at the menu (00) and in the next (bilingual) service."""
    chat = Chat(small_catalog())
    chat.send("")
    chat.send("3")
    chat.send("2")  # རྫོང་ཁ
    chat.send("2")  # Pet licence: English only
    assert chat.screen == "Citizenship ID"
    chat.send("00")
    assert chat.screen.splitlines()[1] == "1. ཉ་འཛིན་ཆོག་ཐམ"
    chat.send("1")
    assert chat.screen == "ཁྱོད་ཀྱི་མིང"


def test_references_do_not_take_method_names_for_answers() -> None:
    """dialogs/expressions.py `references`: `answers.get('cid')` (allowed by the sandbox,
    renders the answer) is reported as reading an answer named "get", and `cid` is missed.
    The checker then flags a non-existent step and misses a real dependency."""
    found = references("{{ answers.get('cid') }}")
    assert "get" not in found.answers
    assert "cid" in found.answers


def test_engine_step_of_superscript_digit_at_a_choice() -> None:
    """The crash reached through the engine at a choice step of a running service."""
    chat = Chat(small_catalog())
    chat.send("", service="fishing-permit")
    chat.send("Pema")
    outcome = chat.send("²")
    assert chat.snap.invalid == 1
    assert outcome.replies


# ---------------------------------------------------------------- review findings, fixed

SHIPPED = load_repository([SERVICES_DIR]).catalog
DRONE_TO_REVIEW = ["11501001234", "DJI Mini 4", "1", "1", "14", "10/02/2026", "12/02/2026", "50"]


def _drone_at_review(channel: Medium = Medium.SMS) -> Chat:
    chat = Chat(SHIPPED, channel=channel)
    chat.send("", service="drone-flight-authorization")
    for answer in DRONE_TO_REVIEW:
        chat.send(answer)
    assert chat.snap.step == "review", chat.screen
    return chat


def test_each_run_of_a_service_has_its_own_idempotency_key() -> None:
    chat = _drone_at_review()
    chat.send("1")  # confirm
    first = chat.send("1")  # consent: the submission effect
    chat.send(result=SubmissionResult(ok=False))
    chat.send("restart")
    for answer in DRONE_TO_REVIEW:
        chat.send(answer)
    chat.send("1")
    second = chat.send("1")
    (one,) = first.effects
    (two,) = second.effects
    assert isinstance(one, Submission)
    assert isinstance(two, Submission)
    assert one.idempotency_key != two.idempotency_key
    assert one.idempotency_key.startswith("conv-1:drone-flight-authorization:")


def test_an_empty_registry_record_follows_on_error() -> None:
    chat = Chat(SHIPPED)
    chat.send("", service="business-registration")
    chat.send("11501001234")
    chat.send(result=LookupResult(ok=True, data={"name": None}))
    assert chat.snap.step == "applicant_name"
    assert "citizen" not in chat.snap.answers


def test_help_on_the_second_page_shows_the_help_and_the_first_page() -> None:
    chat = Chat(SHIPPED, channel=Medium.USSD)
    chat.send("", service="business-registration")
    chat.send("11501001234")
    chat.send(result=LookupResult(ok=True, data={"name": "Pema", "mobile": CENSUS_MOBILE}))
    chat.send("Pema Store")
    chat.send("1")  # cottage: the activity list, over two USSD screens
    chat.send("98")
    assert chat.snap.page == 1
    assert "1. General shop" not in chat.screen
    chat.send("help")
    assert chat.snap.page == 0
    assert chat.screen.startswith("Registering takes about a minute.")
    assert "1. General shop" in chat.screen


def test_back_while_changing_an_answer_still_returns_to_the_summary() -> None:
    chat = _drone_at_review()
    chat.send("2")
    chat.send("3")  # purpose
    chat.send("5")  # other: a new question
    assert chat.snap.step == "purpose_other"
    chat.send("0")  # back to purpose
    assert chat.snap.step == "purpose"
    chat.send("5")
    chat.send("Counting yaks")
    assert chat.snap.step == "review"
    assert "Counting yaks" in chat.screen


def test_a_long_closing_sms_is_sent_in_parts() -> None:
    catalog = Catalog.of([compile_yaml(_LONG_END)])
    chat = Chat(catalog, channel=Medium.SMS)
    chat.send("")
    outcome = chat.send("Pema")
    assert chat.snap.ended
    assert len(outcome.replies) == 2
    assert all(o.key != "98" for r in outcome.replies for o in r.options)
    assert "".join(r.text for r in outcome.replies).replace(" ", "") == ("word" * 120)


_LONG_END = """
format: 1
id: long-end
version: 1
title: Long end
steps:
  - id: name
    type: text
    prompt: Name?
  - id: done
    type: end
    prompt: "{{ 'word ' * 120 }}"
"""


def test_a_loop_back_forgets_answers_off_the_final_path() -> None:
    catalog = Catalog.of([compile_yaml(_LOOP)])
    chat = Chat(catalog)
    chat.send("")
    chat.send("123")
    chat.send(result=LookupResult(ok=False))  # not found: asked to type it again
    assert chat.snap.step == "retry"
    chat.send("yes")
    chat.send(result=LookupResult(ok=True, data={"ok": 1}))
    outcome = chat.send("1")  # summary confirmed: submitted
    (submission,) = outcome.effects
    assert isinstance(submission, Submission)
    assert "retry" not in submission.answers


_LOOP = """
format: 1
id: loop
version: 1
title: Loop
steps:
  - id: number
    type: text
    prompt: Number?
  - id: check
    type: lookup
    url: "https://registry.example/{{ answers.number }}"
    on_error: retry
    next: review
  - id: retry
    type: yes_no
    prompt: Not found. Check it again?
    next: check
  - id: review
    type: summary
    prompt: Check
  - id: submit
    type: submit
    mode: review
    reference_prefix: LP
  - id: done
    type: end
    prompt: Done
"""


def test_a_misspelt_channel_in_conversation_tests_is_refused() -> None:
    tests, problems = parse_tests(
        "service: x\ncases:\n  - name: a\n    channels: [USSD]\n    steps: [{send: hi}]\n", "t"
    )
    assert tests is None
    assert [p.line for p in problems] == [4]


def test_restart_starts_the_published_version() -> None:
    v1 = compile_yaml(_LONG_END)
    v2 = compile_yaml(_LONG_END.replace("version: 1", "version: 2"))
    chat = Chat(Catalog.of([v1]))
    chat.send("")
    chat.catalog = chat.catalog.publish(v2)
    chat.send("restart")
    assert chat.snap.version == 2


def test_one_letter_does_not_pick_an_option() -> None:
    step = make_step({"id": "c", "type": "choice", "prompt": "?", "options": ["Homestay", "Kiosk"]})
    assert step.parse("s", step_context()) == Rejected("bad_choice")  # type: ignore[attr-defined]
    assert step.parse("homstay", step_context()) != Rejected("bad_choice")  # type: ignore[attr-defined]
