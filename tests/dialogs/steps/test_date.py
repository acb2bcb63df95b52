"""`date` steps: relative bounds, formats and what is shown back."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.steps.base import Accepted, Rejected
from dialogs.steps.date import DateStep, resolve_bound
from tests.dialogs.helpers import TODAY, make_step, step_context


def _date(**fields: object) -> DateStep:
    built = make_step({"id": "when", "type": "date", "prompt": "When?", **fields})
    assert isinstance(built, DateStep)
    return built


@pytest.mark.parametrize(
    ("bound", "today", "expected"),
    [
        ("today", date(2026, 1, 15), date(2026, 1, 15)),
        (" TODAY ", date(2026, 1, 15), date(2026, 1, 15)),
        ("today + 30 days", date(2026, 1, 15), date(2026, 2, 14)),
        ("today+1day", date(2026, 12, 31), date(2027, 1, 1)),
        ("today - 18 years", date(2026, 1, 15), date(2008, 1, 15)),
        ("today - 18 years", date(2024, 2, 29), date(2006, 2, 28)),
        ("today + 2 weeks", date(2026, 1, 15), date(2026, 1, 29)),
        ("today + 1 month", date(2026, 1, 31), date(2026, 2, 28)),
        ("today + 6 Months", date(2026, 8, 31), date(2027, 2, 28)),
        ("2026-03-01", date(2026, 1, 15), date(2026, 3, 1)),
    ],
)
def test_resolve_bound(bound: str, today: date, expected: date) -> None:
    assert resolve_bound(bound, today) == expected


@pytest.mark.parametrize("bound", ["tomorrow", "today + days", "today * 2 days", "01/02/2026"])
def test_malformed_bounds_raise(bound: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - date.fromisoformat's own error
        resolve_bound(bound, TODAY)


def test_relative_bounds_follow_the_clock() -> None:
    step = _date(min="today", max="today + 30 days")
    assert step.parse("20/02/2026", step_context(today=date(2026, 1, 15))) == Rejected(
        "date_too_late", {"max": "14/02/2026"}
    )
    assert step.parse("20/02/2026", step_context(today=date(2026, 2, 1))) == Accepted("2026-02-20")


@pytest.mark.parametrize(
    ("fmt", "typed", "shown"),
    [
        ("DD/MM/YYYY", "05/03/2026", "05/03/2026"),
        ("MM/DD/YYYY", "03/05/2026", "03/05/2026"),
        ("DD-MM-YYYY", "05/03/2026", "05-03-2026"),
        ("YYYY-MM-DD", "2026.03.05", "2026-03-05"),
    ],
)
def test_formats_save_iso_and_show_back_in_format(fmt: str, typed: str, shown: str) -> None:
    step = _date(format=fmt)
    assert step.parse(typed, step_context()) == Accepted("2026-03-05")
    assert step.display("2026-03-05", step_context()) == shown


def test_error_gives_format_and_an_example_of_today() -> None:
    assert _date(format="MM/DD/YYYY").parse("31/12/2026", step_context()) == Rejected(
        "bad_date", {"format": "MM/DD/YYYY", "example": "01/15/2026"}
    )


def test_display_of_a_value_that_is_not_a_date() -> None:
    assert _date().display("not a date", step_context()) == "not a date"
    assert _date().max_display_length() == 10
