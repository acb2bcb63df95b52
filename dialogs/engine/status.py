"""The citizen's applications, asked for anywhere (a menu item, a word): fetched by the
gateway within the turn, listed, then the conversation goes on where it was."""

from __future__ import annotations

from dialogs.engine import answers, menu, navigation, screens, states
from dialogs.engine.turn import Turn
from dialogs.media import Medium
from dialogs.messages import EffectResult, Reply, StatusRequest, StatusResult
from dialogs.session import Asking, AwaitingStatus
from dialogs.text import localise


def request(turn: Turn) -> None:
    turn.draft.state, turn.draft.page = AwaitingStatus(), 0
    turn.effects.append(StatusRequest())


def screen(turn: Turn) -> Reply | None:
    """While the list is fetched: the menu, or the question, it was asked from."""
    if turn.service is None:
        return menu.screen(turn)
    return screens.question(turn, turn.service)


def answer(turn: Turn, raw: str) -> None:
    """An answer before the list came: to the menu, or the question, it was asked from."""
    if turn.service is None:
        menu.answer(turn, raw)
    else:
        answers.answer(turn, turn.service, raw)


def result(turn: Turn, outcome: EffectResult) -> None:
    if not isinstance(outcome, StatusResult):
        return  # not what this state waits for
    turn.say(Reply(_listed(turn, outcome), end=turn.profile.medium is Medium.USSD))
    service = turn.service
    if turn.profile.medium is Medium.USSD:
        # A USSD screen cannot list and go on: the list is the session's last screen.
        turn.end()
    elif service is None:
        menu.show_menu(turn)
    elif service.steps[turn.draft.step].kind == "effect":
        # Asked while a lookup or submission waited (for a number to be proved, or
        # to be tried again): arrive at it again.
        turn.draft.state = Asking()
        navigation.enter(turn, service, turn.draft.step, revisit=False)
    else:
        turn.draft.state = Asking()
        states.show(turn)


def _listed(turn: Turn, outcome: StatusResult) -> str:
    if not outcome.ok:
        return turn.builtin("unavailable")
    if not outcome.applications:
        return turn.builtin("no_applications")
    lines = [turn.builtin("applications")]
    for item in outcome.applications:
        service = turn.catalog.get(item.service)
        title = localise(service.definition.title, turn.lang) if service else item.service
        state = turn.builtin(f"status_{item.status}") if item.status else ""
        lines.append(f"{item.reference} {title}: {state}")
    return "\n".join(lines)
