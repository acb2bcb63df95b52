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
from typing import Literal

from pydantic import Field

from dialogs.steps.base import Accepted, InputStep, Parsed, Rejected, StepContext

DEFAULT_MAX_LENGTH = 100


class TextStep(InputStep):
    """A free-text answer."""

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
