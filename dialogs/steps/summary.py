"""`summary`: the answers so far, to confirm or to change one of them.

```yaml
- id: review
  type: summary
  prompt: Please check your application
  fields: [applicant_name, business_name, business_type, location]
```
"1. Confirm" goes on; "2. Change an answer" lists the answers, the citizen picks one,
answers it again and comes straight back to the summary.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.steps.base import Accepted, InputStep, Option, Parsed, Rejected, StepContext, StepId

CONFIRM, EDIT = "confirm", "edit"


class SummaryStep(InputStep):
    """Shows `fields` (default: every answer so far) with Confirm / Change options."""

    type: Literal["summary"]
    fields: list[StepId] | None = Field(
        default=None, description="Steps whose answers are listed (default: all, in order)."
    )

    def choices(self, ctx: StepContext) -> list[Option]:
        return [
            Option(CONFIRM, ctx.text(BUILTIN_TEXTS["confirm"])),
            Option(EDIT, ctx.text(BUILTIN_TEXTS["edit"])),
        ]

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        word = raw.strip().casefold()
        confirm, edit = (o.label.casefold() for o in self.choices(ctx))
        if word in {"1", CONFIRM, confirm, "yes", "y", "ok"}:
            return Accepted(CONFIRM)
        if word in {"2", EDIT, edit, "change"}:
            return Accepted(EDIT)
        return Rejected("bad_choice")

    def answer_is_saved(self) -> bool:
        return False
