"""An application that goes to an officer is acknowledged: its reference, what happens
next and how to follow it; the permit comes with the approval, its link in the message."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from dialogs.catalog import Catalog
from dialogs.checks import acknowledgement as acknowledgement_check
from dialogs.loader import load_text
from dialogs.media import Medium
from dialogs.messages import Submission, SubmissionResult
from gateway.providers.common import ussd_screen
from gateway.settings import Settings
from gateway.submissions.service import Submissions, link_for, message_for
from state.submissions import Owed, Stored, SubmissionRow
from tests.dialogs.helpers import Chat, Perform, compile_yaml, screen_text

REVIEWED = """
format: 1
id: hall-booking
version: 1
title: Hall booking
languages: [en, dz]
{texts}
steps:
  - id: holder
    type: text
    prompt: {{en: Your name, dz: ཁྱོད་ཀྱི་མིང}}
  - id: submit
    type: submit
    mode: {mode}
    reference_prefix: HB
    assurance: self-declared
{acknowledgement}
  - id: done
    type: end
    prompt: {done}
"""


def _chat(
    *,
    mode: str = "review",
    done: str = "Thank you.",
    acknowledgement: str = "",
    texts: str = "",
    channel: Medium = Medium.SMS,
    lang: str | None = None,
) -> Chat:
    service = compile_yaml(
        REVIEWED.format(mode=mode, done=done, acknowledgement=acknowledgement, texts=texts)
    )
    return Chat(Catalog.of([service]), channel=channel, lang=lang)


def _submitted(chat: Chat, status: str = "pending") -> list[str]:
    link = "https://docs.example/HB-1" if status == "issued" else None
    perform = Perform(submission=SubmissionResult(True, "HB-2026-000007", status, link))
    chat.run("", perform)
    outcome = chat.run("Pema Wangmo", perform)
    assert isinstance(perform.performed[-1], Submission)
    assert chat.snap.ended
    return [screen_text(reply, chat.channel) for reply in outcome.replies]


def test_a_review_submission_says_its_reference_what_comes_and_how_to_follow_it() -> None:
    said = _submitted(_chat())
    assert said == [
        "Application HB-2026-000007 received. An officer will review it and we will "
        "send you the decision. Send STATUS to follow it.",
        "Thank you.",
    ]


def test_a_next_step_showing_the_reference_is_the_acknowledgement() -> None:
    done = '"Application {{ submission.reference }} received."'
    assert _submitted(_chat(done=done)) == ["Application HB-2026-000007 received."]


def test_the_authors_acknowledgement_is_said_in_the_citizens_language() -> None:
    acknowledgement = (
        "    acknowledgement:\n"
        "      en: 'Booking {{ submission.reference }} waits for the caretaker.'\n"
        "      dz: 'ཐོ་ {{ submission.reference }}'"
    )
    done = '"Reference {{ submission.reference }}."'  # the author's text is said anyway
    said = _submitted(_chat(acknowledgement=acknowledgement, done=done, lang="dz"))
    assert said == ["ཐོ་ HB-2026-000007", "Reference HB-2026-000007."]


def test_a_service_may_reword_the_built_in_acknowledgement() -> None:
    texts = "texts:\n  review_received: 'Got it: {{ submission.reference }}. Send STATUS.'"
    assert _submitted(_chat(texts=texts))[0] == "Got it: HB-2026-000007. Send STATUS."


def test_an_instant_submission_is_not_acknowledged_as_reviewed() -> None:
    said = _submitted(_chat(mode="instant"), status="issued")
    assert said == ["Thank you.\nhttps://docs.example/HB-1"]  # as before: the document


def test_on_ussd_the_acknowledgement_and_the_closing_screen_make_one_screen() -> None:
    chat = _chat(channel=Medium.USSD)
    _submitted(chat)
    assert chat.last is not None
    text, ends = ussd_screen(list(chat.last.replies))
    assert ends
    assert text.startswith("Application HB-2026-000007 received.")
    assert text.endswith("Send STATUS to follow it.\nThank you.")
    assert len(text) <= 182


# ------------------------------------------------------------------ W401: seen on USSD
def _w401(*, acknowledgement: str = "", done: str = "Thank you.") -> list[tuple[int, int]]:
    text = REVIEWED.format(mode="review", done=done, acknowledgement=acknowledgement, texts="")
    loaded = load_text(text, "hall-booking.yaml")
    assert loaded.definition is not None, loaded.problems
    problems = acknowledgement_check.run(loaded)
    assert {p.code for p in problems} <= {"W401"}
    return [(p.line, p.col) for p in problems]


def test_the_built_in_acknowledgement_and_a_short_closing_screen_fit_one_ussd_screen() -> None:
    assert _w401() == []


def test_a_closing_screen_too_long_to_show_under_the_acknowledgement_is_reported() -> None:
    done = "Thank you. An officer of the district office will call you within two working days."
    assert _w401(done=done) == [(12, 5)]  # `- id: submit`


def test_an_authors_acknowledgement_too_long_is_reported_at_its_line() -> None:
    acknowledgement = "    acknowledgement: '" + "Received, thank you. " * 9 + "'"
    assert _w401(acknowledgement=acknowledgement) == [(17, 22)]  # its text


def test_a_closing_screen_showing_the_submission_needs_no_acknowledgement() -> None:
    done = '"Booking {{ submission.reference }}: an officer of the district office will call."'
    assert _w401(done=done) == []


# ------------------------------------------------------------------ the permit on approval
class _Store:
    """The submission store as `Submissions.decide` uses it, keeping what it is owed."""

    def __init__(self, row: SubmissionRow) -> None:
        self.row = row
        self.owed: list[Owed] = []

    async def by_reference(self, reference: str) -> SubmissionRow | None:
        return self.row if reference == self.row.reference else None

    async def decide(self, reference: str, **decision: Any) -> Stored:
        self.owed = decision["owed"]
        self.row.status = "approved" if decision["approve"] else "rejected"
        return Stored(self.row, decision["token"], created=True)


def _pending(channel: str) -> SubmissionRow:
    return SubmissionRow(
        id=7,
        reference="HB-2026-000007",
        service="hall-booking",
        version=1,
        mode="review",
        status="pending",
        citizen="+97517123456",
        channel=channel,
        lang="en",
        answers={"holder": "Pema"},
        document={"title": "Hall Booking Permit", "issuer": "Thromde", "fields": []},
        created_at=datetime(2026, 12, 1),
        updated_at=datetime(2026, 12, 1),
    )


async def _nothing(ids: object) -> None:
    return None


@pytest.mark.parametrize("channel", ["ussd", "sms", "whatsapp"])
def test_the_approval_message_carries_the_permit_link(channel: str) -> None:
    settings = Settings(link_url="https://gw.example.gov.bt")
    store = _Store(_pending(channel))
    submissions = Submissions(store, settings, _nothing)  # type: ignore[arg-type]
    stored = asyncio.run(submissions.decide("HB-2026-000007", approve=True, reason=None))
    assert stored is not None
    assert stored.token
    [message] = [owed for owed in store.owed if owed.kind == "message"]
    reply = message_for(store.row, message.payload, settings)
    assert reply.link == link_for(settings, stored.token)
    assert reply.link.startswith("https://gw.example.gov.bt/d/")
    assert reply.text == "Your application HB-2026-000007 is approved. Hall Booking Permit:"
