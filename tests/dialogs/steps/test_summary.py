"""`summary` steps: the Confirm / Change options (the edit flow is in test_engine)."""

from __future__ import annotations

from dialogs.steps.base import Accepted, Option
from dialogs.steps.summary import CONFIRM, EDIT, SummaryStep
from tests.dialogs.helpers import make_step, step_context


def _summary(**fields: object) -> SummaryStep:
    built = make_step({"id": "review", "type": "summary", "prompt": "Check", **fields})
    assert isinstance(built, SummaryStep)
    return built


def test_options() -> None:
    assert _summary().choices(step_context()) == [
        Option(CONFIRM, "Confirm"),
        Option(EDIT, "Change an answer"),
    ]


def test_labels_come_from_the_context_text_function() -> None:
    ctx = step_context()
    shouting = type(ctx)(
        lang="en",
        today=ctx.today,
        phone_region="BT",
        answers={},
        text=lambda text: "OUI" if text and "Confirm" in str(text) else "CHANGER",
    )
    assert _summary().parse("oui", shouting) == Accepted(CONFIRM)
    assert _summary().parse("changer", shouting) == Accepted(EDIT)


def test_nothing_is_saved() -> None:
    assert _summary(fields=["a", "b"]).answer_is_saved() is False
    assert _summary(fields=["a", "b"]).fields == ["a", "b"]
