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

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.steps.base import (
    Accepted,
    FieldPath,
    InputStep,
    Option,
    Parsed,
    Rejected,
    Rejection,
    StepContext,
    StepId,
)

CONFIRM, EDIT = "confirm", "edit"


class SummaryStep(InputStep):
    """Shows `fields` (default: every answer so far) with Confirm / Change options."""

    paged: ClassVar[bool] = True
    confirms_answers: ClassVar[bool] = True
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

    def edits_answer(self, value: Any) -> bool:
        return bool(value != CONFIRM)

    def edits(self, answers: Sequence[str]) -> Sequence[str]:
        return self.fields or answers

    def step_names(self) -> Iterator[tuple[FieldPath, str]]:
        return self.shown_answers()

    def shown_answers(self) -> Iterator[tuple[FieldPath, str]]:
        for index, name in enumerate(self.fields or []):
            yield ("fields", index), name

    def answer_is_saved(self) -> bool:
        return False

    def rejections(self) -> list[Rejection]:
        return [("bad_choice", {})]

    def examples(self, ctx: StepContext) -> list[str]:
        return ["1"]
