"""`info`: a message to read; any reply continues.

```yaml
- id: medium_notice
  type: info
  prompt: Medium businesses also need an environmental clearance. You can apply after this.
```
"""

from __future__ import annotations

from typing import ClassVar, Literal

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.steps.base import Accepted, InputStep, Option, Parsed, StepContext


class InfoStep(InputStep):
    """Information; the citizen acknowledges it with any answer. Nothing is saved."""

    paged: ClassVar[bool] = True
    type: Literal["info"]

    def choices(self, ctx: StepContext) -> list[Option]:
        return [Option("continue", ctx.text(BUILTIN_TEXTS["continue"]))]

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        return Accepted(None)

    def answer_is_saved(self) -> bool:
        return False

    def examples(self, ctx: StepContext) -> list[str]:
        return ["1", "ok"]
