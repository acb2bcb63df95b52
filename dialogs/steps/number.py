"""`number`: a whole or decimal number within bounds.

```yaml
- id: seats
  type: number
  prompt: How many passenger seats?
  min: 10
  max: 70
```
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import Field

from dialogs.steps.base import (
    Accepted,
    Contradiction,
    InputStep,
    Parsed,
    Rejected,
    Rejection,
    StepContext,
)
from dialogs.steps.values import Numbers

_THOUSANDS = re.compile(r"(?<=\d)[ ,](?=\d{3}\b)")


class NumberStep(InputStep):
    """A number; saved as an integer, or as a decimal string when `decimals` > 0."""

    type: Literal["number"]
    min: Decimal | None = Field(default=None, description="Smallest accepted value.")
    max: Decimal | None = Field(default=None, description="Largest accepted value.")
    decimals: int = Field(
        default=0, ge=0, le=6, description="Digits allowed after the decimal point (0: whole)."
    )

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        text = _THOUSANDS.sub("", raw.strip())
        if len(text) > 30 or not re.fullmatch(r"[+-]?\d*(?:[.,]\d+)?", text) or not text:
            return Rejected("not_a_number")
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            return Rejected("not_a_number")
        exponent = number.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and -exponent > self.decimals
            and number != number.to_integral()
        ):
            if self.decimals == 0:
                return Rejected("not_integer")
            return Rejected("too_many_decimals", {"decimals": self.decimals})
        if self.min is not None and number < self.min:
            return Rejected("number_too_small", {"min": _plain(self.min)})
        if self.max is not None and number > self.max:
            return Rejected("number_too_large", {"max": _plain(self.max)})
        if self.decimals == 0:
            return Accepted(int(number))
        return Accepted(_plain(number))

    def display(self, value: Any, ctx: StepContext) -> str:
        return str(value)

    def max_display_length(self) -> int:
        bound = max(abs(self.min or Decimal(0)), abs(self.max or Decimal(10**12)))
        return len(_plain(bound)) + 1 + (self.decimals + 1 if self.decimals else 0)

    def rejections(self) -> list[Rejection]:
        found: list[Rejection] = [("not_a_number", {})]
        if self.decimals:
            found += [("too_many_decimals", {"decimals": str(self.decimals)})]
        else:
            found += [("not_integer", {})]
        found += [("number_too_small", {"min": _plain(self.min)})] if self.min is not None else []
        found += [("number_too_large", {"max": _plain(self.max)})] if self.max is not None else []
        return found

    def possible_values(self) -> Numbers:
        return Numbers(self.min, self.max, self.decimals)

    def contradictions(self) -> list[Contradiction]:
        if self.min is None or self.max is None:
            return []
        if self.min > self.max:
            return [
                Contradiction(
                    "range",
                    ("min",),
                    f"`min` ({_plain(self.min)}) is above `max` ({_plain(self.max)}): "
                    "no number is accepted",
                    "Swap `min` and `max`, or correct the one that is wrong.",
                )
            ]
        # Answers have at most `decimals` digits after the point: the smallest of them at
        # or above `min` must not pass `max` (`min: 1.2`, `max: 1.8` take no whole number).
        step = Decimal(1).scaleb(-self.decimals)
        lowest = (self.min / step).to_integral_value(rounding=ROUND_CEILING) * step
        if lowest > self.max:
            digits = f"number with {self.decimals} decimals" if self.decimals else "whole number"
            return [
                Contradiction(
                    "range",
                    ("min",),
                    f"no {digits} lies between `min` ({_plain(self.min)}) and `max` "
                    f"({_plain(self.max)}): no number is accepted",
                    "Widen the range, or allow more `decimals`.",
                )
            ]
        return []

    def examples(self, ctx: StepContext) -> list[str]:
        low = self.min if self.min is not None and self.min > 1 else Decimal(1)
        value = _plain(low if self.max is None or low <= self.max else self.max)
        return [value] if isinstance(self.parse(value, ctx), Accepted) else []


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
