"""`info` steps: any reply continues and nothing is saved."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.steps.base import Accepted, Option
from dialogs.steps.info import InfoStep
from tests.dialogs.helpers import make_step, step_context


def _info() -> InfoStep:
    built = make_step({"id": "notice", "type": "info", "prompt": "Please note"})
    assert isinstance(built, InfoStep)
    return built


def test_one_continue_option() -> None:
    assert _info().choices(step_context()) == [Option("continue", "Continue")]
    assert _info().answer_is_saved() is False


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.text())
def test_any_answer_continues(raw: str) -> None:
    assert _info().parse(raw, step_context()) == Accepted(None)
