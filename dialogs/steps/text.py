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

import re
from typing import ClassVar, Literal

from pydantic import Field

from dialogs.steps.base import Accepted, InputStep, Parsed, Rejected, Rejection, StepContext

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

    def examples(self, ctx: StepContext) -> list[str]:
        candidates = ("Pema Wangmo", "Pema", "x" * max(self.min_length, 1))
        return [c for c in candidates if isinstance(self.parse(c, ctx), Accepted)][:1]
