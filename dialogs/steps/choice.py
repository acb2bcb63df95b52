"""`choice`: one option from a list written in the step or kept in `services/lists/`.

```yaml
- id: location
  type: choice
  prompt: In which dzongkhag is the business?
  options_from: dzongkhags        # services/lists/dzongkhags.yaml
- id: business_type
  type: choice
  prompt: Type of business
  options:
    - {value: cottage, label: Cottage}
    - {value: small, label: Small}
```
Long lists are paged automatically ("98 More"); the citizen may answer with the option's
number, its value or its words (typos tolerated).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz, process

from dialogs.steps.base import (
    Accepted,
    Contradiction,
    FieldPath,
    InputStep,
    Option,
    Parsed,
    Rejected,
    Rejection,
    StepContext,
)
from dialogs.steps.values import OneOf
from dialogs.text import Text, fold, localise, variants

FUZZY_CUTOFF = 82


class OptionDef(BaseModel):
    """An option: the saved `value` and the shown `label`. A plain string is both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=64, description="Saved when chosen.")
    label: Text = Field(description="Shown to the citizen.", json_schema_extra={"text": True})

    @model_validator(mode="before")
    @classmethod
    def _from_plain_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"value": slug(data), "label": data}
        return data


def slug(label: str) -> str:
    """`Samdrup Jongkhar` -> `samdrup_jongkhar`: a stable value for a plain-string option."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or label


class ChoiceStep(InputStep):
    """One option of many."""

    type: Literal["choice"]
    options: list[OptionDef] = Field(
        default_factory=list, description="The options, in the order shown."
    )
    options_from: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_-]*$",
        description="Name of a shared list in `services/lists/<name>.yaml` (instead of options).",
    )

    def choices(self, ctx: StepContext) -> list[Option]:
        # Built once per language: long shared lists are shown on many steps.
        cached = self._shown.get(ctx.lang)
        if cached is None:
            cached = [Option(o.value, localise(o.label, ctx.lang)) for o in self.options]
            self._shown[ctx.lang] = cached
        return cached

    @cached_property
    def _shown(self) -> dict[str, list[Option]]:
        return {}

    def every_text(self) -> Iterator[tuple[FieldPath, Text]]:
        yield from super().every_text()
        for index, option in enumerate(self.options):
            yield ("options", index, "label"), option.label

    def answer_values(self) -> list[str]:
        return [option.value for option in self.options]

    def possible_values(self) -> OneOf | None:
        if not self.options:
            return None  # its shared list did not load (E006): nothing to judge by
        labels = tuple((text, o.value) for o in self.options for text in variants(o.label))
        return OneOf(tuple(o.value for o in self.options), labels)

    def entity(self) -> str | None:
        return self.options_from  # a shared list is an entity kind (e.g. dzongkhags)

    def entity_values(self) -> list[tuple[str, Text]] | None:
        if not self.options_from:
            return None
        return [(option.value, option.label) for option in self.options]

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        shown = self.choices(ctx)
        answer = raw.strip()
        if not answer or len(answer) > 200:
            return Rejected("bad_choice")
        if answer.isascii() and answer.isdigit():
            index = int(answer) - 1
            return (
                Accepted(shown[index].value) if 0 <= index < len(shown) else Rejected("bad_choice")
            )
        folded = fold(answer)
        for option in shown:
            if folded in (fold(option.value), fold(option.label)):
                return Accepted(option.value)
        if not folded:
            return Rejected("bad_choice")
        prefixed = [o for o in shown if fold(o.label).startswith(folded)]
        if len(folded) >= 3 and len(prefixed) == 1:
            return Accepted(prefixed[0].value)
        if len(folded) < 3:
            return Rejected("bad_choice")  # one or two letters would pick almost anything
        labels = [fold(o.label) for o in shown]
        best = process.extract(
            folded, labels, scorer=fuzz.WRatio, limit=2, score_cutoff=FUZZY_CUTOFF
        )
        if len(best) == 1 or (len(best) == 2 and best[0][1] - best[1][1] >= 5):
            return Accepted(shown[best[0][2]].value)
        return Rejected("bad_choice")

    def display(self, value: Any, ctx: StepContext) -> str:
        for option in self.options:
            if option.value == value:
                return localise(option.label, ctx.lang)
        return str(value)

    def max_display_length(self) -> int:
        return max((len(localise(o.label, "en")) for o in self.options), default=0)

    def answer_length(self) -> int:
        # `answers.<id>` is the value, `labels.<id>` the label: the longer of the two.
        return max([self.max_display_length(), *(len(o.value) for o in self.options)])

    def rejections(self) -> list[Rejection]:
        return [("bad_choice", {})]

    def contradictions(self) -> list[Contradiction]:
        if self.options or self.options_from is not None:
            return []  # a shared list that could not be read is the loader's E006
        return [
            Contradiction(
                "options",
                ("options",),
                "it offers no options to choose from: no answer is accepted",
                "Add `options:` with one `- label` per line, or `options_from: <list>`.",
            )
        ]

    def examples(self, ctx: StepContext) -> list[str]:
        shown = self.choices(ctx)
        return ["1", shown[0].label] if shown else []
