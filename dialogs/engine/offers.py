"""Questions free text raised: "Did you mean ...?" at the menu, "Start ... instead?" or
"Stop?" in a service, and "Is that right?" for an answer given up front (prefill)."""

from __future__ import annotations

from dialogs.compiler import NEXT, CompiledService
from dialogs.engine import answers, menu, navigation, screens, states, understanding
from dialogs.engine.turn import Turn
from dialogs.intents import yes_or_no
from dialogs.messages import Reply
from dialogs.session import Asking, AtMenu, StopOffered, Suggested, SwitchOffered
from dialogs.steps import StepBase
from dialogs.steps.base import Accepted, InputStep
from dialogs.text import localise

Offer = Suggested | SwitchOffered | StopOffered


def question(turn: Turn, state: Offer) -> Reply:
    if isinstance(state, StopOffered):
        text = turn.builtin("confirm_stop")
    else:
        service = turn.catalog.get(state.service)
        title = localise(service.definition.title, turn.lang) if service else state.service
        key = "did_you_mean" if isinstance(state, Suggested) else "switch_service"
        text = turn.builtin(key, {"title": title})
    return Reply(text, turn.yes_no_options())


def answer(turn: Turn, state: Offer, raw: str) -> None:
    """Yes or no to the offer; anything else answers what was asked before it."""
    yes = yes_or_no(raw, turn.meaning)
    if yes is None and turn.meaning is None and turn.profile.free_text:
        if understanding.understood(turn, raw) is None:
            return  # "sure, go ahead": ask the classifier
        yes = yes_or_no(raw, turn.meaning)
    current = turn.service
    turn.draft.state = AtMenu() if current is None else Asking()
    if yes is None:  # neither: an answer to the menu or the question, as if not asked
        if current is None:
            menu.answer(turn, raw)
        else:
            answers.answer(turn, current, raw)
    elif not yes:
        states.show(turn)  # the menu, or the question the citizen was at
    elif isinstance(state, StopOffered):
        navigation.stop(turn)
    elif (wanted := turn.catalog.get(state.service)) is None:
        menu.show_menu(turn)  # withdrawn meanwhile
    else:
        if current is not None:
            turn.event("switched", to=wanted.id)
        navigation.start(turn, wanted, state.answers)


# ------------------------------------------------------------------ answers given up front
def prefill_fits(turn: Turn, current: StepBase) -> bool:
    """Whether the answer given up front for `current` is one it accepts."""
    if not isinstance(current, InputStep):
        return False
    raw = turn.draft.prefill.get(current.id, "")
    return isinstance(current.parse(raw, turn.step_context()), Accepted)


def prefill_question(turn: Turn, service: CompiledService) -> Reply | None:
    current = service.steps[turn.draft.step]
    if not isinstance(current, InputStep):
        return None
    context = turn.step_context()
    value = current.parse(turn.draft.prefill.get(current.id, ""), context)
    shown = current.display(value.value, context) if isinstance(value, Accepted) else ""
    label = screens.field_label(turn, service, current.id)
    text = turn.builtin("prefilled", {"label": label, "value": shown})
    return Reply(text, turn.yes_no_options())


def prefill_answer(turn: Turn, service: CompiledService, raw: str) -> None:
    """Yes to "Citizenship ID: 11512000123. Is that right?" saves it; no asks the
    question; anything else is taken as the answer itself."""
    draft = turn.draft
    current = service.steps[draft.step]
    if not isinstance(current, InputStep):  # never offered: nothing to confirm
        answers.answer(turn, service, raw)
        return
    yes = yes_or_no(raw, turn.meaning)
    typed = isinstance(current.parse(raw, turn.step_context()), Accepted)  # the answer
    if yes is None and turn.meaning is None and not typed:
        if understanding.understood(turn, raw) is None:
            return  # "yes that's right": ask the classifier, change nothing yet
        yes = yes_or_no(raw, turn.meaning)
    prefill = dict(draft.prefill)
    given = prefill.pop(current.id, "")
    draft.state, draft.prefill = Asking(), prefill
    parsed = current.parse(given, turn.step_context()) if yes else None
    if yes is None:
        answers.answer(turn, service, raw)
    elif not isinstance(parsed, Accepted):  # no; or no longer fits (checked on arrival)
        states.show(turn)
    else:
        draft.answers = {**draft.answers, current.id: parsed.value}
        turn.event("answered", prefilled=True)
        navigation.advance(turn, service, current.id, NEXT)
