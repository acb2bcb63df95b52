"""Steps that wait on an effect (a lookup, a submission): the effect a step sends on
arrival, and what its result does to the conversation. The step decides both
(`dialogs.steps.effect`); the engine lends it what it may know and applies its decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.compiler import FAIL, NEXT, CompiledService
from dialogs.engine import answers, navigation, screens, verification
from dialogs.engine.turn import Turn
from dialogs.messages import Effect, EffectResult, Reply
from dialogs.session import Asking
from dialogs.steps.effect import Advance, EffectStep, Taken, shows_submission
from dialogs.text import Text


class StepEffects:
    """The `EffectContext` of a step in a turn: the conversation as the step may see it."""

    __slots__ = ("_service", "_turn")

    def __init__(self, turn: Turn, service: CompiledService) -> None:
        self._turn = turn
        self._service = service

    @property
    def service_id(self) -> str:
        return self._service.id

    @property
    def version(self) -> int:
        return self._service.version

    @property
    def run_key(self) -> str:
        draft = self._turn.draft
        return f"{draft.id}:{self._service.id}:{draft.run}"

    @property
    def phone(self) -> str | None:
        return verification.proven_phone(self._turn)

    @property
    def amends(self) -> str | None:
        return self._turn.draft.amends

    def answers_on_path(self) -> Mapping[str, Any]:
        answers.prune(self._turn, self._service, force=True)
        return self._turn.draft.answers

    def applicant_confirmed(self) -> bool:
        given = self._turn.draft.answers
        return any(
            step.vouches_for_applicant() and step.id in given
            for step in self._service.steps.values()
        )

    def answer_for(self, entity: str) -> Any:
        given = self._turn.draft.answers
        for name in self._service.order:
            if name in given and self._service.steps[name].entity() == entity:
                return given[name]
        return None

    def text(self, text: Text | None) -> str:
        return self._turn.text(text)

    def render(self, source: str) -> str:
        return self._service.render(source, "en", self._turn.context())

    def render_url(self, source: str) -> str:
        return self._service.render_url(source, self._turn.context())

    def label(self, name: str) -> str:
        return screens.field_label(self._turn, self._service, name)

    def display(self, name: str) -> str:
        return screens.display(self._turn, self._service, name)


def request(turn: Turn, service: CompiledService, current: EffectStep) -> Effect:
    """The effect the step sends out."""
    return current.request(StepEffects(turn, service))


def result(turn: Turn, service: CompiledService, outcome: EffectResult) -> None:
    """The result of the current step's effect (any other is late: it does nothing)."""
    current = service.steps[turn.draft.step]
    if not isinstance(current, EffectStep):
        return
    taken = current.take(outcome, StepEffects(turn, service))
    if taken is not None:
        apply(turn, service, current, taken)


def apply(turn: Turn, service: CompiledService, current: EffectStep, taken: Taken) -> None:
    """Carry out what a step decided about its effect's result."""
    if not isinstance(taken, Advance):  # say why, and wait to be tried again (or end)
        text = turn.text(taken.text) if taken.text else turn.builtin(taken.builtin)
        turn.say(Reply(text, end=taken.end))
        turn.event(taken.event, **taken.details)
        if taken.end:
            turn.end()
        return
    draft = turn.draft
    if current.answer_is_saved():
        given = dict(draft.answers)
        if taken.answer is not None:
            given[current.id] = taken.answer
        else:
            given.pop(current.id, None)
        draft.answers = given
    if taken.submission is not None:
        draft.submission = dict(taken.submission)
    draft.state = Asking()
    turn.event(taken.event, **taken.details)
    said = len(turn.replies)
    navigation.advance(turn, service, current.id, FAIL if taken.failed else NEXT)
    if taken.text or taken.builtin:
        _acknowledge(turn, service, taken, said)


def _acknowledge(turn: Turn, service: CompiledService, taken: Advance, at: int) -> None:
    """Say the step's acknowledgement before the screen it advanced to (`at`). The
    built-in one stands in only for an author who wrote none: a next step that shows
    the submission (`{{ submission.reference }}`) is the author's own acknowledgement."""
    if taken.text:
        text = turn.text(taken.text)
    elif shows_submission(service.steps[turn.draft.step].message()):
        return
    else:
        text = turn.builtin(taken.builtin)
    turn.replies.insert(at, Reply(text))
