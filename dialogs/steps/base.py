"""What every step type shares: identity, where to go next, and the parse contract.

Step types are pure: they read an answer and say whether it is acceptable. They never
perform I/O; lookups and submissions are effects performed by the caller of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.text import Text

StepId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["business_name"])]
StepKind = Literal["input", "effect", "final"]


class Branch(BaseModel):
    """One way on: go to `goto` when `if` holds (no `if`: always)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    when: str | None = Field(
        default=None,
        alias="if",
        description='Condition over the answers, e.g. `answers.business_type == "medium"`.',
    )
    goto: StepId = Field(description="The step to go to.")


Next = StepId | list[Branch] | None


@dataclass(frozen=True, slots=True)
class Option:
    """One choice offered to the citizen; `value` is what is saved, `label` what is shown."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid answer and the value saved for it."""

    value: Any


@dataclass(frozen=True, slots=True)
class Rejected:
    """An invalid answer: which built-in message explains it, with its parameters."""

    reason: str
    params: Mapping[str, Any] | None = None


Parsed = Accepted | Rejected


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step may know while reading an answer; supplied by the engine."""

    lang: str
    today: date
    phone_region: str
    answers: Mapping[str, Any]
    text: Callable[[Text | None], str]  # localise and render a definition text


class StepBase(BaseModel):
    """Fields every step has."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: ClassVar[StepKind] = "input"

    id: StepId = Field(description="Unique name of the step; answers are saved under it.")
    next: Next = Field(
        default=None,
        description="Where to go after this step: a step id, or a list of `if`/`goto` "
        "branches tried in order. Omitted: the following step in the list.",
    )

    def texts(self) -> Iterator[tuple[str, Text]]:
        """Every citizen-facing text of the step, with the field it comes from."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name != "next" and isinstance(value, str | dict) and _is_text_field(self, name):
                yield name, value

    def targets(self) -> list[str]:
        """Steps this step names explicitly besides `next` (e.g. `on_error`)."""
        return []

    def answer_is_saved(self) -> bool:
        """Whether reaching the next step means `answers.<id>` is set."""
        return self.kind != "final"

    def vouches_for_applicant(self) -> bool:
        """Whether this step's answer, once saved, means a registry confirmed who the
        applicant is (an instant document may rest on it)."""
        return False

    def needs_proven_number(self) -> bool:
        """Whether the citizen must hold a proved number before this step runs: on the
        web chat and Telegram the engine asks for one (and a code) first."""
        return False


def _is_text_field(step: StepBase, name: str) -> bool:
    extra = type(step).model_fields[name].json_schema_extra
    return isinstance(extra, dict) and extra.get("text") is True


def text_field(description: str, *, required: bool = False, default: Text | None = None) -> Any:
    """A citizen-facing, translatable field (checked for translations and screen size)."""
    extra: dict[str, Any] = {"text": True}
    if required:
        return Field(description=description, json_schema_extra=extra)
    return Field(default=default, description=description, json_schema_extra=extra)


class InputStep(StepBase):
    """A step that asks a question and saves the answer."""

    prompt: Text = text_field("The question shown to the citizen.", required=True)
    label: Text | None = text_field("Short name of the answer, shown in the summary.")
    help: Text | None = text_field("Shown when the citizen asks for help at this step.")
    error: Text | None = text_field(
        "Shown instead of the built-in message when the answer is not valid."
    )

    def choices(self, ctx: StepContext) -> list[Option]:
        """Choices to show (empty for free answers)."""
        return []

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        raise NotImplementedError

    def display(self, value: Any, ctx: StepContext) -> str:
        """How a saved answer is shown back (summary, templates)."""
        return "" if value is None else str(value)

    def max_display_length(self) -> int:
        """Worst-case length of `display`, used by the checker to size screens."""
        return 40

    def entity(self) -> str | None:
        """The kind of entity (see `dialogs.messages.Entity`) that can answer this step
        when a citizen names it up front; None: none can."""
        return None
