"""`date`: a calendar date in a stated format, within bounds that may be relative.

```yaml
- id: flight_date
  type: date
  prompt: Date of the flight (DD/MM/YYYY)
  format: DD/MM/YYYY
  min: today + 3 days
  max: today + 6 months
```
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from typing import Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import Field, field_validator

from dialogs.steps.base import (
    Accepted,
    Contradiction,
    InputStep,
    Parsed,
    Rejected,
    Rejection,
    StepContext,
)

_TOKENS = {"DD": "%d", "MM": "%m", "YYYY": "%Y"}
_RELATIVE = re.compile(
    r"^today(?:\s*([+-])\s*(\d{1,4})\s*(day|week|month|year)s?)?$", re.IGNORECASE
)
DATE_BOUND_HELP = 'A date `YYYY-MM-DD`, `today`, or `today + N days|weeks|months|years` (or "-").'


def resolve_bound(bound: str, today: date) -> date:
    """The date a bound such as `today + 30 days` or `2026-01-01` stands for."""
    match = _RELATIVE.match(bound.strip())
    if match is None:
        return date.fromisoformat(bound.strip())
    sign, amount, unit = match.groups()
    if sign is None:
        return today
    count = int(amount) * (1 if sign == "+" else -1)
    unit = unit.lower()
    delta = relativedelta(
        days=count if unit == "day" else 0,
        weeks=count if unit == "week" else 0,
        months=count if unit == "month" else 0,
        years=count if unit == "year" else 0,
    )
    return today + delta


def _is_relative(bound: str) -> bool:
    return _RELATIVE.match(bound.strip()) is not None


# Days on which bounds a month apart and bounds some days apart compare differently: the
# first and the last days of every month (the ones a month's length changes), over a
# leap-year cycle. Two bounds in days (or both in months) compare alike on every day.
_SAMPLE_DAYS = tuple(
    date(year, month, day)
    for year in range(2024, 2028)
    for month in range(1, 13)
    for day in (1, 28, 29, 30, 31)
    if day <= calendar.monthrange(year, month)[1]
)


class DateStep(InputStep):
    """A date; saved as `YYYY-MM-DD`, shown back in `format`."""

    type: Literal["date"]
    format: Literal["DD/MM/YYYY", "YYYY-MM-DD", "MM/DD/YYYY", "DD-MM-YYYY"] = Field(
        default="DD/MM/YYYY", description="How the citizen types the date."
    )
    min: str | None = Field(default=None, description="Earliest date. " + DATE_BOUND_HELP)
    max: str | None = Field(default=None, description="Latest date. " + DATE_BOUND_HELP)

    @field_validator("min", "max")
    @classmethod
    def _valid_bound(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not _is_relative(value):
            try:
                date.fromisoformat(value.strip())
            except ValueError:
                # Say what is allowed: `today+30d` or `30/01/2026` are natural guesses.
                raise ValueError(f"{value!r} is not a date bound. {DATE_BOUND_HELP}") from None
        resolve_bound(value, date(2000, 1, 1))  # raises ValueError when out of the calendar
        return value

    def _strptime_format(self) -> str:
        out: str = self.format
        for token, directive in _TOKENS.items():
            out = out.replace(token, directive)
        return out

    def example(self, today: date) -> str:
        return today.strftime(self._strptime_format())

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        params = {"format": self.format, "example": self.example(ctx.today)}
        text = raw.strip()
        if len(text) > 20:
            return Rejected("bad_date", params)
        separator = "-" if "-" in self.format else "/"
        text = re.sub(r"[\s./-]+", separator, text)
        try:
            value = datetime.strptime(text, self._strptime_format()).date()
        except ValueError:
            return Rejected("bad_date", params)
        if self.min is not None and value < (low := resolve_bound(self.min, ctx.today)):
            return Rejected("date_too_early", {"min": low.strftime(self._strptime_format())})
        if self.max is not None and value > (high := resolve_bound(self.max, ctx.today)):
            return Rejected("date_too_late", {"max": high.strftime(self._strptime_format())})
        return Accepted(value.isoformat())

    def display(self, value: Any, ctx: StepContext) -> str:
        try:
            return date.fromisoformat(str(value)).strftime(self._strptime_format())
        except ValueError:
            return str(value)

    def max_display_length(self) -> int:
        return 10

    def rejections(self) -> list[Rejection]:
        longest = "31/12/2026"  # the longest shape of a date
        return [
            ("bad_date", {"format": self.format, "example": longest}),
            ("date_too_early", {"min": longest}),
            ("date_too_late", {"max": longest}),
        ]

    def contradictions(self) -> list[Contradiction]:
        if self.min is None or self.max is None:
            return []
        if _is_relative(self.min) != _is_relative(self.max):
            return []  # `today` against a fixed date: whether they cross depends on the day
        empty_on = [day for day in _SAMPLE_DAYS if self._range_is_empty(day)]
        if not empty_on:
            return []
        if len(empty_on) == len(_SAMPLE_DAYS):
            return [
                Contradiction(
                    "dates",
                    ("min",),
                    f"`min` ({self.min}) is after `max` ({self.max}): no date is accepted",
                    "Swap `min` and `max`, or correct the one that is wrong.",
                )
            ]
        return [
            Contradiction(
                "some_dates",
                ("min",),
                f"on some days `min` ({self.min}) falls after `max` ({self.max}), e.g. when "
                f"today is {empty_on[0].isoformat()}: no date is accepted then",
                "Months differ in length: write both bounds in days, or both in months.",
            )
        ]

    def _range_is_empty(self, today: date) -> bool:
        assert self.min is not None
        assert self.max is not None
        try:
            return resolve_bound(self.min, today) > resolve_bound(self.max, today)
        except (ValueError, OverflowError):
            return False  # a bound past the calendar's end: not a contradiction of the two

    def examples(self, ctx: StepContext) -> list[str]:
        day = ctx.today
        if self.min is not None:
            day = max(day, resolve_bound(self.min, ctx.today))
        if self.max is not None:
            day = min(day, resolve_bound(self.max, ctx.today))
        return [day.strftime(self._strptime_format())]
