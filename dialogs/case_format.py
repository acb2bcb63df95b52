"""The format of conversation tests (`<id>.tests.yaml`), read with problems at their lines;
`dialogs.conversation_tests` plays them.

```yaml
service: business-registration
cases:
  - name: citizen found in the census
    channels: [ussd, sms]            # default: every channel
    lookups:
      citizen: {data: {name: Pema Wangmo}}     # or {error: timeout}
    steps:
      - screen_contains: citizenship ID        # the first screen, on dialling
      - send: "11501001234"
        screen_contains: Welcome Pema Wangmo
        at: business_name
    answers: {cid: "11501001234"}
    ended: false
```
Running a case is pure: lookups and submissions are answered from the case's mocks.

The citizen holds `phone` (default +97517123456): the operator gives it on USSD, SMS and
WhatsApp; on the web chat and Telegram it was proved before (`proved: true`, the default)
or is proved in the case (`proved: false`): the code sent is always `123456`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from dialogs.loader import Locator, parse_yaml
from dialogs.media import Medium
from dialogs.problems import Problem

TEST_PHONE = "+97517123456"
TEST_CODE = "123456"  # the code "sent" by SMS in a conversation test
Strings = str | list[str]
LISTED = 12  # names a hint lists at most (a shared list has 20 dzongkhags)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exchange(_Model):
    """One message from the citizen (none for the first screen) and what must follow."""

    send: str | None = Field(default=None, description="What the citizen types.")
    screen: str | None = Field(default=None, description="The exact screen expected.")
    screen_contains: Strings = Field(default_factory=list, description="Text that must show.")
    screen_not_contains: Strings = Field(default_factory=list, description="Text that must not.")
    options: list[str] | None = Field(
        default=None, description="The labels of the options shown, in order (any channel)."
    )
    options_contain: Strings = Field(
        default_factory=list, description="Labels that must be among the options shown."
    )
    at: str | None = Field(default=None, description="Step the conversation must be at after.")
    ended: bool | None = Field(default=None, description="Whether the conversation ended.")

    def expects(self) -> bool:
        """Whether it checks anything of what follows its message."""
        return bool(
            self.screen is not None
            or self.screen_contains
            or self.screen_not_contains
            or self.options is not None
            or self.options_contain
            or self.at is not None
            or self.ended is not None
        )


class LookupMock(_Model):
    """A registry's answer: JSON `data`, or an `error` (timeout, not found...)."""

    data: Any = None
    error: str | None = None


class SubmissionMock(_Model):
    ok: bool = True
    reference: str | None = None
    link: str | None = None


class Case(_Model):
    """One conversation: a list of exchanges, with mocks and final expectations."""

    name: str
    channels: list[Medium] = Field(default_factory=lambda: list(Medium))
    lang: str = "en"
    today: date = date(2026, 11, 28)
    phone: str = Field(default=TEST_PHONE, description="The number the citizen holds.")
    proved: bool = Field(
        default=True,
        description="On the web chat and Telegram: the number was proved before (false: "
        "the case proves it; the code sent is 123456).",
    )
    lookups: dict[str, LookupMock] = Field(default_factory=dict)
    submission: SubmissionMock = Field(default_factory=SubmissionMock)
    steps: list[Exchange] = Field(min_length=1)
    answers: dict[str, Any] = Field(default_factory=dict, description="Saved answers (subset).")
    ended: bool | None = None
    submitted: bool | None = None
    submitted_answers: dict[str, Any] = Field(default_factory=dict)

    def expects(self) -> bool:
        """Whether the case checks anything at all: a case that checks nothing passes
        whatever the service does, which is never what its author meant."""
        return any(exchange.expects() for exchange in self.steps) or bool(
            self.answers
            or self.ended is not None
            or self.submitted is not None
            or self.submitted_answers
        )


NOTHING_EXPECTED = (
    "the case checks nothing: add `screen_contains:`, `options:`, `at:` or `ended:` to a "
    "step, or `answers:`, `ended:` or `submitted:` to the case"
)


class TestFile(_Model):
    service: str
    cases: list[Case] = Field(min_length=1)


def parse_tests(text: str, file: str) -> tuple[TestFile | None, list[Problem]]:
    """A tests file from its YAML text, or the problems found in it."""
    tests, _, problems = read_tests(text, file)
    return tests, problems


def read_tests(text: str, file: str) -> tuple[TestFile | None, Locator, list[Problem]]:
    """A tests file with where each of its values is written (for problems at their line),
    or the problems found in it."""
    data, locator, problems = parse_yaml(text, file)
    if problems:
        return None, locator, problems
    try:
        return TestFile.model_validate(data), locator, []
    except ValidationError as exc:
        found = [_format_problem(file, locator, error) for error in exc.errors()]
        return None, locator, found


def _format_problem(file: str, locator: Locator, error: ErrorDetails) -> Problem:
    """A validation error of a tests file, at its line, with what was probably meant."""
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc)
    if error["type"] == "enum" and "channels" in loc:
        line, col = locator.find(loc)
        channel = error.get("input")
        return Problem(
            file,
            line,
            col,
            "E384",
            f"unknown channel {channel!r}",
            did_you_mean(str(channel), [m.value for m in Medium], "Channels"),
        )
    if error["type"] == "extra_forbidden":
        line, col = locator.find(loc, key=True)
        known = _FIELDS.get(_model_at(loc), ())
        hint = did_you_mean(str(loc[-1]), known, "Fields here")
        return Problem(file, line, col, "E100", f"{where}: unknown field", hint)
    line, col = locator.find(loc)
    hint = ""
    if error["type"] == "string_type" and isinstance(error.get("input"), int | float | bool):
        # YAML reads 17 as a number and yes as true: the commonest mistake in a test.
        hint = 'YAML reads it as a number or true/false: write it in quotes, e.g. `send: "17"`.'
    return Problem(file, line, col, "E100", f"{where}: {error['msg']}", hint)


def _model_at(loc: tuple[str | int, ...]) -> str:
    """Which model of the tests file a path of an unknown field lies in."""
    if len(loc) >= 3 and loc[-3] == "lookups":  # cases.N.lookups.<step>.<field>
        return "lookups"
    parents = [p for p in loc[:-1] if isinstance(p, str)]
    return parents[-1] if parents else ""


_FIELDS: dict[str, tuple[str, ...]] = {
    "": tuple(TestFile.model_fields),
    "cases": tuple(Case.model_fields),
    "steps": tuple(Exchange.model_fields),
    "lookups": tuple(LookupMock.model_fields),
    "submission": tuple(SubmissionMock.model_fields),
}


def did_you_mean(word: str, known: Iterable[str], what: str) -> str:
    """A hint listing what `word` may be, the closest first."""
    names = sorted(known)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    close = close or [n for n in names if n.casefold() == word.casefold()]
    more = ", ..." if len(names) > LISTED else "."
    listed = f"{what}: {', '.join(names[:LISTED])}{more}" if names else ""
    return f"Did you mean {close[0]!r}? {listed}" if close else listed
