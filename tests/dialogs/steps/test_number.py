"""`number` steps: what is saved, and how large the shown value can be."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.steps.base import Accepted, Rejected
from dialogs.steps.number import NumberStep
from tests.dialogs.helpers import make_step, step_context


def _number(**fields: object) -> NumberStep:
    built = make_step({"id": "seats", "type": "number", "prompt": "How many?", **fields})
    assert isinstance(built, NumberStep)
    return built


def test_whole_numbers_are_saved_as_int() -> None:
    parsed = _number().parse("1 234", step_context())
    assert parsed == Accepted(1234)
    assert isinstance(parsed, Accepted)
    assert type(parsed.value) is int


def test_decimals_are_saved_as_plain_strings() -> None:
    step = _number(decimals=3)
    assert step.parse("0.125", step_context()) == Accepted("0.125")
    assert step.parse("1000", step_context()) == Accepted("1000")  # not "1E+3"
    assert step.parse("2.500", step_context()) == Accepted("2.5")


def test_bounds_are_inclusive() -> None:
    step = _number(min=10, max=70)
    assert step.parse("10", step_context()) == Accepted(10)
    assert step.parse("70", step_context()) == Accepted(70)
    assert step.parse("9", step_context()) == Rejected("number_too_small", {"min": "10"})
    assert step.parse("71", step_context()) == Rejected("number_too_large", {"max": "70"})


def test_decimal_bounds_are_shown_plainly() -> None:
    step = _number(decimals=1, min="0.5", max="1E+2")
    assert step.parse("101", step_context()) == Rejected("number_too_large", {"max": "100"})


def test_display_and_size() -> None:
    assert _number().display(12, step_context()) == "12"
    assert _number(min=1, max=30).max_display_length() == 3
    # 10**12 by default: 13 digits, a sign, and "." plus the decimals
    assert _number(decimals=2).max_display_length() == 13 + 1 + 3


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_any_integer_round_trips(number: int) -> None:
    step = _number()
    assert step.parse(str(number), step_context()) == Accepted(number)
    assert step.parse(f"{number:,}", step_context()) == Accepted(number)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_junk_is_refused_or_within_bounds(raw: str) -> None:
    step = _number(min=-5, max=5, decimals=1)
    parsed = step.parse(raw, step_context())
    if isinstance(parsed, Accepted):
        assert isinstance(parsed.value, str)
        assert Decimal(-5) <= Decimal(parsed.value) <= Decimal(5)
    else:
        assert parsed.reason in {"not_a_number", "number_too_small", "number_too_large"}
