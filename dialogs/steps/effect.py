"""Steps that wait on an effect: they ask the gateway to do something (call a registry,
store an application) and decide what its result does to the conversation.

The engine calls `request` on arrival and `take` with the result, knowing neither the
step's type nor the effect's: it applies the small decision `take` returns. What a step may
know and render then is an `EffectContext`, which the engine supplies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from dialogs.expressions import ExpressionError, references
from dialogs.messages import Effect, EffectResult
from dialogs.steps.base import StepBase, StepKind
from dialogs.text import Text


class EffectContext(Protocol):
    """What a step that waits on an effect may know and render; supplied by the engine."""

    @property
    def service_id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def run_key(self) -> str:
        """This run of the service in this conversation: keys what must happen once."""
        ...

    @property
    def phone(self) -> str | None:
        """The number the citizen is known to hold (the operator's, or proved by a code)."""
        ...

    @property
    def amends(self) -> str | None:
        """The reference of the returned application this run corrects, if any."""
        ...

    def answers_on_path(self) -> Mapping[str, Any]:
        """The answers, once those a changed branch left off the path are forgotten."""
        ...

    def applicant_confirmed(self) -> bool:
        """Whether a registry confirmed who applies on the way here."""
        ...

    def answer_for(self, entity: str) -> Any:
        """The answer of the first step asking for `entity` (e.g. `cid`) that has one."""
        ...

    def text(self, text: Text | None) -> str:
        """A definition text in the citizen's language, its template filled in."""
        ...

    def render(self, source: str) -> str:
        """A template of the definition, in English (sent to a registry, not shown)."""
        ...

    def render_url(self, source: str) -> str:
        """A URL template, every inserted value percent-encoded."""
        ...

    def label(self, name: str) -> str:
        """How the answer of step `name` is named (its `label`, else its id)."""
        ...

    def display(self, name: str) -> str:
        """The answer of step `name` as shown back to the citizen."""
        ...


@dataclass(frozen=True, slots=True)
class Advance:
    """Go on from the step: along its `next` way, or its failure way when `failed`.

    For a step that saves an answer, `answer` becomes it (None: it is forgotten); a
    `submission` is kept for later steps (`{{ submission.reference }}`).

    An acknowledgement is said before the next step's screen: the definition's `text`
    always; else the built-in message `builtin`, unless the next step shows the
    submission itself (`shows_submission`: its author already acknowledges it)."""

    event: str
    details: Mapping[str, Any] = field(default_factory=dict)
    failed: bool = False
    answer: Any = None
    submission: Mapping[str, Any] | None = None
    text: Text | None = None
    builtin: str = ""


@dataclass(frozen=True, slots=True)
class Halt:
    """Say a message and stay, waiting to be tried again; or, when `end`, end there.

    The message is the definition's `text`, else the built-in message `builtin`."""

    event: str
    details: Mapping[str, Any] = field(default_factory=dict)
    text: Text | None = None
    builtin: str = "unavailable"
    end: bool = False


Taken = Advance | Halt
"""What an effect's result does to the conversation."""


def shows_submission(message: Text | None) -> bool:
    """Whether a step's message shows the submission (`{{ submission.reference }}`...) in
    some language: then it is its author's acknowledgement of it, and the built-in one
    is left out (`Advance`)."""
    sources = message.values() if isinstance(message, dict) else [message or ""]
    for source in sources:
        try:
            if "submission" in references(source).names:
                return True
        except ExpressionError:
            continue  # a broken template (reported by the checker) shows nothing
    return False


class EffectStep(StepBase):
    """A step that sends an effect on arrival and goes on with its result."""

    kind: ClassVar[StepKind] = "effect"
    effect_type: ClassVar[type[Any]]
    """The type of effect (`dialogs.messages.Effect`) the step sends."""

    def request(self, ctx: EffectContext) -> Effect:
        """The effect to send on arrival."""
        raise NotImplementedError

    def take(self, result: EffectResult, ctx: EffectContext) -> Taken | None:
        """What the result of its effect does (None: not a result it waits for)."""
        raise NotImplementedError

    def example_result(self) -> EffectResult | None:
        """The result a simulation answers its effect with (None: none is given)."""
        return None
