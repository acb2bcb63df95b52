"""What a step's saved answer can be, as the checker reasons about conditions over it.

A step describes its answer's values (`StepBase.possible_values`) as one of a few small
kinds: a finite set of texts (a choice's values), true or false (a yes/no), or numbers in
a range. Each kind says what a comparison with a constant can give, exactly as the
sandboxed condition would compute it: a set of outcomes, `True`, `False` or `RAISES` (the
comparison raises, e.g. text against a number, so the whole condition is false). Anything
a kind cannot tell for sure gives every outcome: the checker then stays silent.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Final, Literal

Raises = Literal["raises"]
RAISES: Final[Raises] = "raises"
Outcome = bool | Raises
Outcomes = frozenset[Outcome]
ANY: Final[Outcomes] = frozenset({True, False, RAISES})

ORDER = ("lt", "lteq", "gt", "gteq")
OPERATORS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lteq": operator.le,
    "gt": operator.gt,
    "gteq": operator.ge,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}
"""Jinja's comparison operators (`nodes.Operand.op`) as Python computes them."""


def apply(op: str, left: Any, right: Any) -> Outcome:
    """One comparison of concrete values, as the condition would compute it."""
    try:
        return bool(OPERATORS[op](left, right))
    except Exception:
        return RAISES


@dataclass(frozen=True, slots=True)
class Finite:
    """Finitely many known values: every comparison is computed on each of them."""

    values: tuple[Any, ...]

    def compare(self, op: str, other: Any, *, answer_left: bool = True) -> Outcomes:
        if op not in OPERATORS:
            return ANY
        return frozenset(
            apply(op, value, other) if answer_left else apply(op, other, value)
            for value in self.values
        )

    def truth(self) -> Outcomes:
        return frozenset(bool(value) for value in self.values)


@dataclass(frozen=True, slots=True)
class OneOf(Finite):
    """One of a list of texts (a choice's option values); `labels` pairs each label, in
    every language it is written in, with its value (to tell a label written by mistake)."""

    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Booleans(Finite):
    """`true` or `false` (a yes/no question)."""

    values: tuple[Any, ...] = (True, False)


@dataclass(frozen=True, slots=True)
class Numbers:
    """A number from `low` to `high` (None: unbounded). With `decimals` it is saved as
    text such as "2.5", so comparing it with a number raises; otherwise as an integer."""

    low: Decimal | None
    high: Decimal | None
    decimals: int = 0

    def compare(self, op: str, other: Any, *, answer_left: bool = True) -> Outcomes:
        if op not in OPERATORS or isinstance(other, bool) or self.empty():
            return ANY
        numeric = isinstance(other, int | float | Decimal)
        if numeric == bool(self.decimals) or other is None:
            # Text against a number (either way round): never equal, never ordered.
            if op in ("eq", "ne"):
                return frozenset({op == "ne"})
            return frozenset({RAISES}) if op in ORDER else ANY
        if not numeric:
            return ANY  # a decimal's text against text: compared as text
        if op not in ("eq", "ne", *ORDER):
            return ANY
        if not answer_left:
            op = {"lt": "gt", "lteq": "gteq", "gt": "lt", "gteq": "lteq"}.get(op, op)
        return self._against(op, Decimal(str(other)))

    def _against(self, op: str, number: Decimal) -> Outcomes:
        # Only for whole numbers: a decimal answer is text, compared as such.
        low, high = self._whole_bounds()
        if op in ("eq", "ne"):
            can_equal = (
                (low is None or low <= number)
                and (high is None or number <= high)
                and number == number.to_integral_value()
            )
            only = low is not None and low == high == number
            equal = {True} if only else ({True, False} if can_equal else {False})
            return frozenset(equal if op == "eq" else {not value for value in equal})
        # The answer holds for some value iff it holds at the favourable end of the range.
        holds = OPERATORS[op]
        best, worst = (low, high) if op in ("lt", "lteq") else (high, low)
        some = best is None or holds(best, number)
        every = worst is not None and holds(worst, number)
        return frozenset({True} if every else ({True, False} if some else {False}))

    def truth(self) -> Outcomes:
        if self.decimals:
            return frozenset({True})  # non-empty text, even "0"
        return self._against("ne", Decimal(0))

    def empty(self) -> bool:
        low, high = self._whole_bounds()
        return low is not None and high is not None and low > high

    def _whole_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        # A whole number's range is that of the integers within the bounds.
        low, high = self.low, self.high
        if self.decimals:
            return low, high
        return (
            None if low is None else low.to_integral_value(rounding=ROUND_CEILING),
            None if high is None else high.to_integral_value(rounding=ROUND_FLOOR),
        )


AnswerValues = OneOf | Booleans | Numbers
"""What `StepBase.possible_values` describes (None there: anything, unknown)."""
