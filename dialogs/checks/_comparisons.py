"""What is mistaken in one comparison of an answer with a constant, and how to say it.

The messages of the `conditions` check: a choice compared with a label or with a value it
does not have, a yes/no compared with a text, a number compared outside its range or with
the other type. Each is told from what the step's answer can be (`AnswerValues`) and what
the comparison can give.
"""

from __future__ import annotations

import dataclasses
from difflib import get_close_matches
from typing import Any

from dialogs.steps.values import AnswerValues, Booleans, Numbers, OneOf, Outcomes
from dialogs.text import fold

SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">="}
SYMBOLS |= {"in": "in", "notin": "not in"}


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """A comparison that cannot do what it was written for: code, message and hint."""

    code: str
    message: str
    hint: str


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """`answers.<name> <op> <constant>` (or the other way round), and what it can give."""

    name: str
    op: str
    constant: Any
    answer_left: bool
    outcomes: Outcomes

    def written(self) -> str:
        sides = [f"answers.{self.name}", _shown(self.constant)]
        left, right = sides if self.answer_left else sides[::-1]
        return f"{left} {SYMBOLS.get(self.op, self.op)} {right}"

    def replacing(self, item: Any, value: Any) -> str:
        """The comparison as written, with `value` instead of the constant `item`."""
        constant = self.constant
        if isinstance(constant, list | tuple):
            constant = type(constant)(value if c == item else c for c in constant)
        else:
            constant = value
        return dataclasses.replace(self, constant=constant).written()

    def items(self) -> list[Any]:
        """The constants the answer is tested for equality with (none: an ordering)."""
        if self.op in ("eq", "ne"):
            return [self.constant]
        in_list = self.op in ("in", "notin") and isinstance(self.constant, list | tuple)
        return list(self.constant) if in_list and self.answer_left else []

    def code(self, number: int) -> str:
        # A mistaken constant in `==`/`in` never matches; in `!=`/`not in` it always does.
        return ("E" if self.op in ("eq", "in") else "W") + str(number)

    def result(self) -> str:
        return "never matches" if self.op in ("eq", "in") else "always holds"


def mistake(values: AnswerValues, comparison: Comparison) -> Finding | None:
    if isinstance(values, OneOf):
        return _not_a_value(values, comparison)
    if isinstance(values, Booleans):
        return _text_for_boolean(comparison)
    return _out_of_range(values, comparison)


def _not_a_value(values: OneOf, comparison: Comparison) -> Finding | None:
    wrong = [item for item in comparison.items() if item not in values.values]
    if not wrong:
        return None
    name, item = comparison.name, wrong[0]
    folded = fold(str(item))
    label = next((v for text, v in values.labels if folded and fold(text) == folded), None)
    if label is not None:
        return Finding(
            comparison.code(320),
            f"answers.{name} is compared with {_shown(item)}, a label: it saves the option's "
            f"value, so this {comparison.result()}",
            f"Use the value `{label}`, not its label: `{comparison.replacing(item, label)}`.",
        )
    close = [v for v in values.values if fold(v) == folded] or get_close_matches(
        str(item), values.values, n=1
    )
    shown = ", ".join(f'"{v}"' for v in values.values[:8])
    more = f" and {len(values.values) - 8} more" if len(values.values) > 8 else ""
    return Finding(
        comparison.code(321),
        f"answers.{name} can never be {_shown(item)}: step {name!r} has no such option, so "
        f"this {comparison.result()}",
        (f'Did you mean "{close[0]}"? ' if close else "") + f"Its values: {shown}{more}.",
    )


def _text_for_boolean(comparison: Comparison) -> Finding | None:
    texts = [item for item in comparison.items() if isinstance(item, str)]
    if not texts:
        return None
    name = comparison.name
    return Finding(
        comparison.code(322),
        f"answers.{name} is true or false (a yes/no), never the text {_shown(texts[0])}: "
        f"this {comparison.result()}",
        f"Write `answers.{name}` for yes and `not answers.{name}` for no.",
    )


def _out_of_range(values: Numbers, comparison: Comparison) -> Finding | None:
    never, always = True not in comparison.outcomes, comparison.outcomes == {True}
    constant, op = comparison.constant, comparison.op
    if not (never or always) or op not in SYMBOLS or op in ("in", "notin"):
        return None
    severity = "E" if never else "W"
    what = f"`{comparison.written()}` {'never' if never else 'always'} holds"
    number = isinstance(constant, int | float) and not isinstance(constant, bool)
    name = comparison.name
    if values.decimals and number:
        return Finding(
            f"{severity}324",
            f'answers.{name} is saved as text such as "2.5" (it allows decimals): {what}',
            f"Convert it first: `answers.{name} | float {SYMBOLS[op]} {_shown(constant)}`.",
        )
    if not values.decimals and (isinstance(constant, str) or constant is None):
        return Finding(
            f"{severity}324",
            f"answers.{name} is a whole number, never {_shown(constant)}: {what}",
            f"Compare it with a number, without quotes (`answers.{name} {SYMBOLS[op]} 10`).",
        )
    if not number:
        return None
    return Finding(
        f"{severity}323",
        f"answers.{name} is {_range(values)}: {what}",
        "Compare it within its range, or change the step's `min`/`max`."
        if never
        else "Remove the test (it is always true), or compare it within its range.",
    )


def _range(values: Numbers) -> str:
    kind = "a number" if values.decimals else "a whole number"
    low, high = (None if b is None else format(b, "f") for b in (values.low, values.high))
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is None and high is None:
        return kind
    return f"{kind} of at least {low}" if low is not None else f"{kind} of at most {high}"


def _shown(value: Any) -> str:
    """A constant as written in a condition."""
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return repr(value)
