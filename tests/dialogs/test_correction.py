"""An application returned for correction: the citizen's next conversation goes straight
to the answers the officer named, then back to the summary, and confirming sends the
corrected answers to the same application (the shipped drone permit, on USSD and SMS)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dialogs.catalog import Catalog
from dialogs.media import Medium
from dialogs.messages import Correction, Submission, SubmissionResult
from tests.dialogs.helpers import Chat, Perform

SERVICE = "drone-flight-authorization"
REFERENCE = "DFA-2026-000007"
RECEIVED = SubmissionResult(ok=True, reference=REFERENCE, status="pending")
ANSWERS = [  # (step, answer) to the end of the drone permit
    ("drone_model", "DJI Mavic 3"),
    ("weight_category", "2"),
    ("purpose", "1"),
    ("dzongkhag", "Paro"),
    ("start_date", "20/01/2026"),
    ("end_date", "25/01/2026"),
    ("max_altitude", "100"),
]


def _applied(catalog: Catalog, channel: Medium) -> dict[str, Any]:
    """The answers of a drone permit applied for to the end, as the gateway stores them."""
    chat = Chat(catalog, channel=channel)
    perform = Perform(submission=RECEIVED)
    chat.run(service=SERVICE)
    chat.run("11512000123", perform)
    for _, answer in ANSWERS:
        chat.run(answer, perform)
    assert chat.snap.step == "review"
    chat.run("1", perform)  # confirm
    chat.run("1", perform)  # I declare
    submitted = [e for e in perform.performed if isinstance(e, Submission)]
    assert len(submitted) == 1
    assert submitted[0].amends is None
    return dict(submitted[0].answers)


def _returned(chat: Chat, answers: dict[str, Any], *steps: str, note: str = "") -> None:
    correction = Correction(REFERENCE, SERVICE, 1, answers, steps, note)
    inbound = replace(chat.inbound(), correction=correction)
    from dialogs.engine import act

    outcome = act(chat.catalog, chat.snapshot, inbound)
    chat.snapshot, chat.last = outcome.snapshot, outcome


@pytest.mark.parametrize("channel", [Medium.USSD, Medium.SMS])
def test_the_citizen_is_taken_to_the_named_answer_then_back_to_the_summary(
    services_catalog: Catalog, channel: Medium
) -> None:
    answers = _applied(services_catalog, channel)
    chat = Chat(services_catalog, channel=channel)
    _returned(chat, answers, "drone_model", note="The model is not a DJI Mavic 3.")
    assert chat.snap.step == "drone_model"
    said = "\n".join(reply.text for reply in chat.last.replies)  # type: ignore[union-attr]
    assert f"Please correct application {REFERENCE}: The model is not" in said
    assert "Drone make and model" in chat.screen
    perform = Perform(submission=RECEIVED)
    chat.run("DJI Mini 4", perform)
    assert chat.snap.step == "review"  # nothing else asked again
    assert "DJI Mini 4" in chat.screen
    chat.run("1", perform)
    chat.run("1", perform)
    (submission,) = [e for e in perform.performed if isinstance(e, Submission)]
    assert submission.amends == REFERENCE
    assert submission.answers == {**answers, "drone_model": "DJI Mini 4"}
    assert REFERENCE in " ".join(r.text for r in chat.last.replies)  # type: ignore[union-attr]


def test_each_named_answer_is_asked_in_the_order_of_the_service(
    services_catalog: Catalog,
) -> None:
    answers = _applied(services_catalog, Medium.USSD)
    chat = Chat(services_catalog, channel=Medium.USSD)
    _returned(chat, answers, "max_altitude", "drone_model")
    assert chat.snap.step == "drone_model"
    chat.run("DJI Mini 4")
    assert chat.snap.step == "max_altitude"
    chat.run("90")
    assert chat.snap.step == "review"
    assert chat.snap.answers["max_altitude"] == 90


def test_a_corrected_answer_that_changes_a_branch_asks_its_new_question(
    services_catalog: Catalog,
) -> None:
    answers = _applied(services_catalog, Medium.USSD)
    chat = Chat(services_catalog, channel=Medium.USSD)
    _returned(chat, answers, "max_altitude")
    chat.run("150")  # above 120 m: a licensed pilot
    assert chat.snap.step == "pilot_licence"
    chat.run("RPL-0123")
    assert chat.snap.step == "review"


def test_back_from_the_first_named_answer_goes_to_the_question_before_it(
    services_catalog: Catalog,
) -> None:
    answers = _applied(services_catalog, Medium.USSD)
    chat = Chat(services_catalog, channel=Medium.USSD)
    _returned(chat, answers, "purpose")
    chat.run("0")
    assert chat.snap.step == "weight_category"


def test_a_correction_naming_no_step_of_the_service_begins_as_usual(
    services_catalog: Catalog,
) -> None:
    answers = _applied(services_catalog, Medium.USSD)
    chat = Chat(services_catalog, channel=Medium.USSD)
    _returned(chat, answers, "no_such_step")
    assert chat.snap.amends is None
    assert chat.snap.service is None  # the menu


def test_a_new_application_started_from_the_correction_is_no_correction(
    services_catalog: Catalog,
) -> None:
    answers = _applied(services_catalog, Medium.USSD)
    chat = Chat(services_catalog, channel=Medium.USSD)
    _returned(chat, answers, "drone_model")
    chat.run("restart")
    assert chat.snap.amends is None
    assert chat.snap.correcting == ()
