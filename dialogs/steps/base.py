"""What every step type shares: identity, where to go next, and the behaviour the engine,
the checker and the tools ask of a step without knowing its type.

Step types are pure: they read an answer and say whether it is acceptable. They never
perform I/O; lookups and submissions are effects performed by the caller of the engine
(`dialogs.steps.effect`). A type answers for itself: its texts and templates, the steps it
names, its answer's worst-case size and the messages it refuses answers with, examples
of answers it accepts. The engine and the tools never switch on its type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.steps.values import AnswerValues
from dialogs.text import Text

StepId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["business_name"])]
StepKind = Literal["input", "effect", "final"]
FieldPath = tuple[str | int, ...]
"""Where a value is written inside a step, e.g. `("options", 2, "label")`."""
TemplateKind = Literal["template", "url"]
UNSIZED_LENGTH = 40  # how long a value of unknown size may be (a registry's field)
Rejection = tuple[str, dict[str, str]]
"""A built-in message an answer may be refused with, and its parameters at their longest."""


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

ContradictionKind = Literal[
    "range", "length", "dates", "some_dates", "pattern", "pattern_length", "options"
]


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Why a step can accept no answer: its fields contradict each other (a `min` above
    its `max`, a pattern no answer matches). `some_dates`: none on some days only."""

    kind: ContradictionKind
    field: FieldPath
    """Where the cause is written in the step, e.g. `("min",)`."""
    message: str
    hint: str


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step may know while reading an answer; supplied by the engine."""

    lang: str
    today: date
    phone_region: str
    answers: Mapping[str, Any]
    text: Callable[[Text | None], str]  # localise and render a definition text


class StepBase(BaseModel):
    """Fields every step has, and what any step answers about itself."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: ClassVar[StepKind] = "input"
    builtin_texts: ClassVar[Mapping[str, dict[str, str]]] = {}
    """Built-in messages this type adds (e.g. the reason it refuses an answer with); the
    registry adds them to `BUILTIN_TEXTS`, and a service may override them under `texts:`."""
    any_script: ClassVar[bool] = False
    """Whether its answer may be in any script (typed freely, or a registry's data): the
    checker sizes SMS with it as non-GSM text."""

    id: StepId = Field(description="Unique name of the step; answers are saved under it.")
    next: Next = Field(
        default=None,
        description="Where to go after this step: a step id, or a list of `if`/`goto` "
        "branches tried in order. Omitted: the following step in the list.",
    )

    # ------------------------------------------------------------------ texts
    def texts(self) -> Iterator[tuple[str, Text]]:
        """The step's own citizen-facing text fields, by field name."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name != "next" and isinstance(value, str | dict) and _is_text_field(self, name):
                yield name, value

    def every_text(self) -> Iterator[tuple[FieldPath, Text]]:
        """Every citizen-facing text of the step, nested ones too (an option's label, a
        document's title), with where it is written in the step: the one answer to
        "which texts does a step have" (translations, GSM and template checks, compiler)."""
        for name, value in self.texts():
            yield (name,), value

    def templates(self) -> Iterator[tuple[FieldPath, str, TemplateKind]]:
        """Templates of the step that are not texts (a URL, a query value, a document's
        holder), with where each is written and how it is rendered."""
        return iter(())

    def message(self) -> Text | None:
        """What the step says on arrival: its question or closing message (None: it says
        nothing, e.g. a lookup)."""
        return None

    # ------------------------------------------------------------------ the steps it names
    def fails_to(self) -> str | None:
        """The step its failure way leads to (None: it cannot fail)."""
        return None

    def targets(self) -> list[str]:
        """Steps this step names explicitly besides `next` (e.g. `on_error`)."""
        failure = self.fails_to()
        return [] if failure is None else [failure]

    def step_names(self) -> Iterator[tuple[FieldPath, str]]:
        """Every step id written in the step besides `next`, with where it is written."""
        return iter(())

    def shown_answers(self) -> Iterator[tuple[FieldPath, str]]:
        """Steps whose answers it shows back (a summary's, a document's fields)."""
        return iter(())

    def edits(self, answers: Sequence[str]) -> Sequence[str]:
        """Which of `answers` (the questions, in order) the citizen may change from here."""
        return ()

    # ------------------------------------------------------------------ its answer
    def answer_is_saved(self) -> bool:
        """Whether reaching the next step means `answers.<id>` is set."""
        return self.kind != "final"

    def answer_length(self) -> int:
        """The longest `answers.<id>` or `labels.<id>` renders as: the checker sizes
        screens and SMS with it."""
        return UNSIZED_LENGTH

    def answer_values(self) -> Sequence[str] | None:
        """The only values its saved answer can take (a choice's option values), for
        checking what a conversation test expects of it; None: not a fixed list."""
        return None

    def entity(self) -> str | None:
        """The kind of entity (see `dialogs.messages.Entity`) that can answer this step
        when a citizen names it up front; None: none can."""
        return None

    def entity_values(self) -> list[tuple[str, Text]] | None:
        """The values `entity()` may take, with their names (a shared list's options);
        None: it is no list (a pattern, or no entity)."""
        return None

    def examples(self, ctx: StepContext) -> list[str]:
        """Answers it accepts, as a citizen types them (empty: it asks nothing)."""
        return []

    def possible_values(self) -> AnswerValues | None:
        """What `answers.<id>` can be once saved, for the checker to tell conditions that
        can never (or always) hold; None: unknown, and conditions on it are not judged."""
        return None

    # ------------------------------------------------------------------ who applies
    def vouches_for_applicant(self) -> bool:
        """Whether this step's answer, once saved, means a registry confirmed who the
        applicant is (an instant document may rest on it)."""
        return False

    def needs_confirmed_applicant(self) -> bool:
        """Whether it may only be reached once a registry confirmed who applies (it
        issues an instant document on the registry's word)."""
        return False

    def needs_proven_number(self) -> bool:
        """Whether the citizen must hold a proved number before this step runs: on the
        web chat and Telegram the engine asks for one (and a code) first."""
        return False

    # ------------------------------------------------------------------ fields of results
    def answer_fields(self) -> frozenset[str] | None:
        """Every field `answers.<id>.<field>` can name, when the answer is a record whose
        keys are known (a lookup's `fields`); None: any, or not a record."""
        return None

    def submission_fields(self) -> frozenset[str] | None:
        """The fields `submission.<field>` has a value for once this step ran (None: it
        submits nothing)."""
        return None


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

    paged: ClassVar[bool] = False
    """Its screen is to be read (an information, a summary): the engine pages it when
    long, so the checker only warns about a USSD screen too small for it."""
    confirms_answers: ClassVar[bool] = False
    """It lists the answers so far to confirm them or pick one to change (a summary)."""
    intent_answers: ClassVar[Mapping[str, Any]] = {}
    """Classifier intents that answer it, with the value saved ("affirm": yes)."""

    prompt: Text = text_field("The question shown to the citizen.", required=True)
    label: Text | None = text_field("Short name of the answer, shown in the summary.")
    help: Text | None = text_field("Shown when the citizen asks for help at this step.")
    error: Text | None = text_field(
        "Shown instead of the built-in message when the answer is not valid."
    )

    def message(self) -> Text | None:
        return self.prompt

    def choices(self, ctx: StepContext) -> list[Option]:
        """Choices to show (empty for free answers)."""
        return []

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        raise NotImplementedError

    def edits_answer(self, value: Any) -> bool:
        """Whether an accepted `value` asks to change an earlier answer rather than to go
        on (a summary's "Change an answer")."""
        return False

    def display(self, value: Any, ctx: StepContext) -> str:
        """How a saved answer is shown back (summary, templates)."""
        return "" if value is None else str(value)

    def max_display_length(self) -> int:
        """Worst-case length of `display`, used by the checker to size screens."""
        return UNSIZED_LENGTH

    def answer_length(self) -> int:
        return self.max_display_length()

    def rejections(self) -> list[Rejection]:
        """Every built-in message an invalid answer may get, with its parameters at their
        longest (the checker puts the longest above the question). Empty: any answer is
        accepted."""
        return []

    def contradictions(self) -> list[Contradiction]:
        """Why no answer could ever be accepted (empty: some can). The checker reports
        each: a citizen could never get past the question."""
        return []
