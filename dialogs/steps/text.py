"""`text`: a free answer with length and pattern checks.

```yaml
- id: business_name
  type: text
  prompt: Enter the name of your business
  min_length: 2
  max_length: 40
  pattern: "[A-Za-z0-9 .&'-]+"
```
"""

from __future__ import annotations

import math
import re
from typing import ClassVar, Literal

from pydantic import Field

from dialogs.regex_language import Lengths, match_lengths
from dialogs.steps.base import (
    Accepted,
    Contradiction,
    InputStep,
    Parsed,
    Rejected,
    Rejection,
    StepContext,
)

DEFAULT_MAX_LENGTH = 100


class TextStep(InputStep):
    """A free-text answer."""

    any_script: ClassVar[bool] = True  # names and addresses, in any script
    type: Literal["text"]
    required: bool = Field(default=True, description="Whether an empty answer is refused.")
    min_length: int = Field(default=0, ge=0, le=1000, description="Fewest characters.")
    max_length: int = Field(
        default=DEFAULT_MAX_LENGTH, ge=1, le=1000, description="Most characters allowed."
    )
    pattern: str | None = Field(
        default=None,
        description="A regular expression the whole answer must match (Python syntax).",
    )

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        value = " ".join(raw.split())  # collapse runs of spaces, tabs and line breaks
        if not value:
            return Accepted("") if not self.required else Rejected("required")
        if len(value) < self.min_length:
            return Rejected("too_short", {"min": self.min_length})
        if len(value) > self.max_length:
            return Rejected("too_long", {"max": self.max_length})
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return Rejected("pattern")
        return Accepted(value)

    def max_display_length(self) -> int:
        return self.max_length

    def rejections(self) -> list[Rejection]:
        found: list[Rejection] = [("too_long", {"max": str(self.max_length)})]
        found += [("required", {})] if self.required else []
        found += [("too_short", {"min": str(self.min_length)})] if self.min_length else []
        return found + ([("pattern", {})] if self.pattern else [])

    def contradictions(self) -> list[Contradiction]:
        if self.min_length > self.max_length:
            return [
                Contradiction(
                    "length",
                    ("min_length",),
                    f"`min_length` ({self.min_length}) is above `max_length` "
                    f"({self.max_length}): no answer is accepted",
                    "Swap them, or correct the one that is wrong.",
                )
            ]
        if self.pattern is None:
            return []
        lengths = match_lengths(self.pattern)
        if lengths is None:
            return [
                Contradiction(
                    "pattern",
                    ("pattern",),
                    f"no answer can match the pattern {self.pattern!r}",
                    "Look for an empty class such as `[^\\s\\S]`, or `^`/`$` in the middle "
                    "(answers are one line); test the pattern on a real answer.",
                )
            ]
        # An empty answer never reaches the pattern: the shortest one checked has 1 character.
        shortest = max(self.min_length, 1)
        if lengths.shortest > self.max_length or lengths.longest < shortest:
            return [
                Contradiction(
                    "pattern_length",
                    ("pattern",),
                    f"the pattern only matches answers of {_span(lengths)} characters, but "
                    f"answers must have {shortest} to {self.max_length}",
                    "Make the pattern's repetitions (`{n}`, `+`) agree with `min_length` "
                    "and `max_length`.",
                )
            ]
        return []

    def examples(self, ctx: StepContext) -> list[str]:
        candidates = ("Pema Wangmo", "Pema", "x" * max(self.min_length, 1))
        return [c for c in candidates if isinstance(self.parse(c, ctx), Accepted)][:1]


def _span(lengths: Lengths) -> str:
    """`11`, `2 to 5` or `3 or more`: how long the answers a pattern matches are."""
    if lengths.longest == math.inf:
        return f"{lengths.shortest} or more"
    if lengths.longest == lengths.shortest:
        return str(lengths.shortest)
    return f"{lengths.shortest} to {int(lengths.longest)}"
