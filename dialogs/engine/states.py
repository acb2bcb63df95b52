"""The table of waiting states: what each shows, what an answer does there, what an
effect's result does there. The states are `dialogs.session`'s; each column is a `match`
over all of them ending in `assert_never`, so mypy rejects a state the table lacks.

Commands ("back", "help", "98"...) act before the table, in any state
(`dialogs.engine.navigation.command`).
"""

from __future__ import annotations

from typing import assert_never

from dialogs.engine import (
    answers,
    effects,
    menu,
    navigation,
    offers,
    resume,
    screens,
    status,
    verification,
)
from dialogs.engine.turn import Turn
from dialogs.messages import EffectResult, Reply
from dialogs.session import (
    Asking,
    AskingCode,
    AskingNumber,
    AtMenu,
    Awaiting,
    AwaitingStatus,
    ChoosingField,
    ChoosingLanguage,
    ConfirmingPrefill,
    Opening,
    ResumeOffered,
    SendingCode,
    StopOffered,
    Suggested,
    SwitchOffered,
)


def shown(turn: Turn) -> Reply | None:
    """The screen of the state, unpaged and without its notice (None: the notice alone)."""
    state = turn.draft.state
    match state:
        case Opening() | AtMenu():
            return menu.screen(turn)
        case ChoosingLanguage():
            return menu.languages(turn)
        case Suggested() | SwitchOffered() | StopOffered():
            return offers.question(turn, state)
        case AwaitingStatus():
            return status.screen(turn)
        case Asking():
            return screens.question(turn, turn.in_service)
        case ChoosingField():
            return screens.fields(turn, turn.in_service)
        case ConfirmingPrefill():
            return offers.prefill_question(turn, turn.in_service)
        case Awaiting() | ResumeOffered():
            return None  # a lookup or submission waits; the question is said when offered
        case AskingNumber() | SendingCode():
            return verification.number_question(turn)
        case AskingCode():
            return verification.code_question(turn, state)
        case _:
            assert_never(state)


def answered(turn: Turn, raw: str) -> None:
    """What an answer (not a command) does in the state."""
    state = turn.draft.state
    match state:
        case Opening() | AtMenu():
            menu.answer(turn, raw, first=isinstance(state, Opening))
        case ChoosingLanguage():
            menu.language_answer(turn, raw)
        case Suggested() | SwitchOffered() | StopOffered():
            offers.answer(turn, state, raw)
        case AwaitingStatus():
            status.answer(turn, raw)
        case Asking():
            answers.answer(turn, turn.in_service, raw)
        case ChoosingField():
            answers.field_choice(turn, turn.in_service, raw)
        case ConfirmingPrefill():
            offers.prefill_answer(turn, turn.in_service, raw)
        case Awaiting():
            navigation.enter(turn, turn.in_service, turn.draft.step)  # e.g. try a submission again
        case ResumeOffered():
            resume.answer(turn, turn.in_service, raw)
        case AskingNumber() | SendingCode():
            verification.number_answer(turn, turn.in_service, raw)
        case AskingCode():
            verification.code_answer(turn, state, raw)
        case _:
            assert_never(state)


def resulted(turn: Turn, result: EffectResult) -> None:
    """What an effect's result does in the state; a result the state does not wait for
    (late, or repeated) does nothing."""
    state = turn.draft.state
    match state:
        case (
            Opening()
            | AtMenu()
            | ChoosingLanguage()
            | Suggested()
            | Asking()
            | ChoosingField()
            | ConfirmingPrefill()
            | ResumeOffered()
            | SwitchOffered()
            | StopOffered()
            | AskingNumber()
        ):
            pass
        case AwaitingStatus():
            status.result(turn, result)
        case Awaiting():
            effects.result(turn, turn.in_service, result)
        case SendingCode() | AskingCode():
            verification.result(turn, turn.in_service, state, result)
        case _:
            assert_never(state)


def screen(turn: Turn) -> Reply | None:
    """The full (unpaged) screen of where the conversation stands, headed by its notice."""
    reply = shown(turn)
    notice = turn.draft.notice
    if reply is None or not notice:
        return reply
    return Reply(f"{notice}\n{reply.text}", reply.options, reply.link, reply.end)


def show(turn: Turn, notice: str = "", *, keep: bool = False) -> None:
    """Show the current screen, headed by `notice` (an error, help); `keep` shows the
    same notice again, so paging with "98"/"0" turns the pages of the screen shown."""
    draft = turn.draft
    if not keep and (notice != draft.notice or draft.page):
        draft.notice, draft.page = notice, 0
    reply = screen(turn)
    if reply is not None:
        turn.say(reply)
    elif draft.notice:  # e.g. help while a submission waits to be retried
        turn.say(Reply(draft.notice))


def page_count(turn: Turn) -> int:
    reply = screen(turn)
    return len(turn.pages(reply)) if reply else 1
