"""Free text: asking the classifier what it means, and acting on a meaning at the menu or
in a service (start, suggest, offer to switch or stop, help, status, the menu)."""

from __future__ import annotations

from dialogs.compiler import CompiledService
from dialogs.engine import menu, navigation, states, status
from dialogs.engine.reading import is_keypad
from dialogs.engine.turn import Turn
from dialogs.intents import asks, is_sure, prefill_for, wanted_service
from dialogs.messages import Meaning, Understand
from dialogs.session import StopOffered, Suggested, SwitchOffered


def understood(turn: Turn, raw: str) -> Meaning | None:
    """What free text asks for. None: an `Understand` effect was queued and the turn
    must stop here unchanged; it runs again with the classifier's answer."""
    if turn.meaning is not None:
        return turn.meaning
    if not turn.profile.free_text or not raw or is_keypad(raw):
        return Meaning(raw)  # a keypad answer: nothing to understand
    turn.effects.append(Understand(raw, turn.draft.lang))
    return None


def noted(turn: Turn, meaning: Meaning) -> None:
    if meaning.source:  # classified, not a keypad answer
        turn.event(
            "understood",
            intent=meaning.intent,
            confidence=round(meaning.confidence, 2),
            source=meaning.source,
        )


def at_menu(turn: Turn, meaning: Meaning, *, first: bool) -> None:
    """The first message, or free text at the menu: start what was asked for."""
    noted(turn, meaning)
    service = wanted_service(turn.catalog, meaning)
    if service is not None:
        prefill = prefill_for(service, meaning.entities)
        if is_sure(meaning):
            navigation.start(turn, service, prefill)
        else:
            turn.draft.state = Suggested(service.id, prefill)
            states.show(turn)
    elif asks(meaning, "help"):
        states.show(turn, turn.builtin("help"))
    elif asks(meaning, "status"):
        status.request(turn)
    elif asks(meaning, "stop", sure=True):
        navigation.stop(turn)
    elif asks(meaning, "greet") or asks(meaning, "menu") or first:
        states.show(turn, turn.builtin("greeting") if asks(meaning, "greet") else "")
    else:  # free text nobody understood, or a keypad answer that is not on the menu
        states.show(turn, turn.builtin("not_understood" if meaning.source else "bad_choice"))


def in_service(turn: Turn, service: CompiledService, meaning: Meaning) -> bool:
    """Free text that fails a step but asks for something else; False: it did not."""
    noted(turn, meaning)
    wanted = wanted_service(turn.catalog, meaning) if is_sure(meaning) else None
    draft = turn.draft
    if wanted is not None and wanted.id != service.id:
        # Only a clear request: a wrong guess here would interrupt an application.
        offered = prefill_for(wanted, meaning.entities)  # kept apart: not this service's
        draft.state, draft.page, draft.notice = SwitchOffered(wanted.id, offered), 0, ""
    elif asks(meaning, "stop"):
        draft.state, draft.page, draft.notice = StopOffered(), 0, ""
    elif asks(meaning, "help", sure=True):
        navigation.show_help(turn)
        return True
    elif asks(meaning, "status", sure=True):
        status.request(turn)
        return True
    elif asks(meaning, "menu", sure=True) and len(turn.catalog.menu()) > 1:
        turn.event("left")
        menu.show_menu(turn)
        return True
    else:
        return False
    states.show(turn)
    return True
