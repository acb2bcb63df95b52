"""A conversation in flight reached again: after a new dial, "continue or start again?";
from another channel, it goes on and says so."""

from __future__ import annotations

from dialogs.compiler import CompiledService
from dialogs.engine import navigation, states
from dialogs.engine.reading import pick
from dialogs.engine.turn import Turn
from dialogs.intents import yes_or_no
from dialogs.messages import Reply
from dialogs.session import Asking, Awaiting, ResumeOffered


def offer(turn: Turn, service: CompiledService) -> None:
    """A new dial (`ask`) or another channel (`say`) reaching a conversation in flight."""
    draft = turn.draft
    if turn.inbound.resume == "say":
        turn.event("resumed", how="channel")
        if isinstance(draft.state, Awaiting | ResumeOffered):
            draft.state = Asking()
            turn.say(Reply(turn.builtin("resumed")))
            navigation.enter(turn, service, draft.step)
        else:
            states.show(turn, turn.builtin("resumed"))
        return
    draft.state, draft.page, draft.notice = ResumeOffered(), 0, ""
    turn.event("resume_offered")
    ask(turn)


def ask(turn: Turn, notice: str = "") -> None:
    """Continue, or start again? (Said apart from the screens: paging never reaches it.)"""
    head = f"{notice}\n" if notice else ""
    options = turn.numbered([turn.builtin("continue"), turn.builtin("start_again")])
    turn.say(Reply(head + turn.builtin("resume_question"), options))


def answer(turn: Turn, service: CompiledService, raw: str) -> None:
    labels = [turn.builtin("continue"), turn.builtin("start_again")]
    choice = pick(raw, labels, ["continue", "restart"])
    if choice is None and (yes := yes_or_no(raw)) is not None:
        choice = 0 if yes else 1  # "Continue?" answered "yes" / "no"
    if choice is None:
        ask(turn, turn.builtin("bad_choice"))
    elif choice == 0:
        turn.event("resumed", how="dial")
        turn.draft.state = Asking()
        if service.steps[turn.draft.step].kind == "effect":
            navigation.enter(turn, service, turn.draft.step)  # e.g. a submission to try again
        else:
            states.show(turn)
    else:
        published = turn.catalog.get(service.id) or service
        turn.event("restarted")
        navigation.start(turn, published)
