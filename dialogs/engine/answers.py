"""Answers to a step's question: parsed, saved, refused with the reason, or changed from
a summary; and forgetting the answers a changed branch left off the path."""

from __future__ import annotations

from dialogs.compiler import EDIT, FAIL, NEXT, CompiledService
from dialogs.engine import navigation, screens, states, understanding
from dialogs.engine.reading import pick
from dialogs.engine.turn import Turn
from dialogs.intents import asks
from dialogs.messages import Meaning
from dialogs.session import Asking, ChoosingField
from dialogs.steps.base import Accepted, InputStep


def answer(turn: Turn, service: CompiledService, raw: str) -> None:
    """The answer to the current step: saved and on to the next step, or refused."""
    draft = turn.draft
    current = service.steps[draft.step]
    if not isinstance(current, InputStep):  # a lookup or submission waits: try it again
        navigation.enter(turn, service, current.id)
        return
    parsed = current.parse(raw, turn.step_context())
    if not isinstance(parsed, Accepted):
        meaning = understanding.understood(turn, raw)
        if meaning is None:
            return  # asked the classifier; this turn goes on with its answer
        if understanding.in_service(turn, service, meaning):
            return
        parsed = by_intent(current, meaning) or parsed  # "sure, go ahead" to a yes/no
    if not isinstance(parsed, Accepted):
        draft.invalid, draft.page = draft.invalid + 1, 0
        turn.event("invalid", reason=parsed.reason)
        message = (
            turn.text(current.error)
            if current.error
            else turn.builtin(parsed.reason, parsed.params)
        )
        states.show(turn, message)
        return
    if current.confirms_answers and current.edits_answer(parsed.value):  # "Change an answer"
        draft.state, draft.page = ChoosingField(), 0
        states.show(turn)
        return
    if current.answer_is_saved():
        draft.answers = {**draft.answers, current.id: parsed.value}
    turn.event("answered")
    navigation.advance(turn, service, current.id, NEXT)


def by_intent(current: InputStep, meaning: Meaning) -> Accepted | None:
    """The answer a classified intent gives the step ("affirm" to a yes/no), if any."""
    intent = meaning.intent
    if intent is None or intent not in current.intent_answers or not asks(meaning, intent):
        return None
    return Accepted(current.intent_answers[intent])


def field_choice(turn: Turn, service: CompiledService, raw: str) -> None:
    """Which answer of the summary to change: go and ask it again, then come back."""
    draft = turn.draft
    summary = service.steps[draft.step]
    if not (isinstance(summary, InputStep) and summary.confirms_answers):  # never elsewhere
        answer(turn, service, raw)
        return
    names = screens.summary_fields(turn, service, summary)
    index = pick(raw, [screens.field_label(turn, service, name) for name in names], names)
    if index is None:
        states.show(turn, turn.builtin("bad_choice"))
        return
    target = service.fire(EDIT, summary.id, turn.context(), target=names[index])
    draft.trail, draft.return_to = navigation.trail(turn, summary.id), summary.id
    draft.state, draft.page, draft.rewound = Asking(), 0, True
    turn.event("edit", to=names[index])
    navigation.enter(turn, service, target or names[index], revisit=False)


def prune(turn: Turn, service: CompiledService, *, force: bool = False) -> None:
    """Forget answers of steps no longer on the path (a branch changed after "back")."""
    draft = turn.draft
    if not draft.rewound and not force:
        return  # answers only leave the path after back, a change or a loop
    on_path = path(turn, service)
    kept = {name: value for name, value in draft.answers.items() if name in on_path}
    if len(kept) != len(draft.answers):
        draft.answers = kept


def path(turn: Turn, service: CompiledService) -> set[str]:
    """Steps on the way from the start to the current step, given the answers."""
    seen: set[str] = set()
    name: str | None = service.start
    context = turn.context()
    while name is not None and name not in seen and name != turn.draft.step:
        seen.add(name)
        # A step with a failure way (a lookup) that has no answer went that way.
        failed = name not in turn.draft.answers and service.steps[name].fails_to() is not None
        name = service.fire(FAIL if failed else NEXT, name, context)
    return seen
