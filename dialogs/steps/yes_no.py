"""`yes_no`: a yes or no question; saves `true` or `false`.

```yaml
- id: consent
  type: yes_no
  prompt: Do you confirm the information is true?
  next:
    - if: answers.consent
      goto: submit
    - goto: cancelled
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from dialogs.builtin_texts import BUILTIN_TEXTS, NO_WORDS, YES_WORDS
from dialogs.steps.base import (
    Accepted,
    InputStep,
    Option,
    Parsed,
    Rejected,
    Rejection,
    StepContext,
    text_field,
)
from dialogs.steps.values import Booleans
from dialogs.text import Text, localise


class YesNoStep(InputStep):
    """Two options, Yes (1) and No (2); yes/no words in any language are understood."""

    intent_answers: ClassVar[Mapping[str, Any]] = {"affirm": True, "deny": False}
    type: Literal["yes_no"]
    yes_label: Text | None = text_field("Label of the Yes option (default: Yes).")
    no_label: Text | None = text_field("Label of the No option (default: No).")

    def _labels(self, lang: str) -> tuple[str, str]:
        yes = localise(self.yes_label, lang) or localise(BUILTIN_TEXTS["yes"], lang)
        no = localise(self.no_label, lang) or localise(BUILTIN_TEXTS["no"], lang)
        return yes, no

    def choices(self, ctx: StepContext) -> list[Option]:
        yes, no = self._labels(ctx.lang)
        return [Option("yes", yes), Option("no", no)]

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        word = raw.strip().casefold().rstrip(".!")
        yes, no = (label.casefold() for label in self._labels(ctx.lang))
        if word in {"1", yes} or word in YES_WORDS:
            return Accepted(True)
        if word in {"2", no} or word in NO_WORDS:
            return Accepted(False)
        return Rejected("bad_yes_no")

    def display(self, value: Any, ctx: StepContext) -> str:
        yes, no = self._labels(ctx.lang)
        return yes if value else no

    def max_display_length(self) -> int:
        return max(len(label) for label in self._labels("en"))

    def answer_length(self) -> int:
        return max(self.max_display_length(), len("False"))  # `answers.<id>` is a boolean

    def rejections(self) -> list[Rejection]:
        return [("bad_yes_no", {})]

    def examples(self, ctx: StepContext) -> list[str]:
        return ["1", "2"]

    def possible_values(self) -> Booleans:
        return Booleans()
