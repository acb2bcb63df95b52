"""Proving a mobile number by a code, where no operator vouches for one (web chat,
Telegram): asked before a step that relies on the number, then the step goes on."""

from __future__ import annotations

from dialogs.compiler import CompiledService
from dialogs.engine import navigation, states
from dialogs.engine.reading import pick
from dialogs.engine.turn import Turn
from dialogs.messages import CheckCode, CodeChecked, CodeSent, EffectResult, Reply, SendCode
from dialogs.session import Asking, AskingCode, AskingNumber, SendingCode
from dialogs.steps.phone import mobile_number

CODE_DIGITS = 6
_NOT_SENT = {"too_many": "codes_too_many", "not_allowed": "number_not_allowed"}


def proven_phone(turn: Turn) -> str | None:
    """The number this citizen is known to hold: the operator's, or one proved by a
    code (now or in an earlier conversation); None on the web chat or Telegram
    before a code was checked."""
    if turn.profile.proves_number:
        return turn.inbound.phone
    return turn.draft.phone or turn.inbound.phone or None


def number_unproved(turn: Turn) -> bool:
    """Whether a number must be proved by a code before going on: on a channel whose
    operator gives none (web chat, Telegram), until a code was checked."""
    return not turn.profile.proves_number and not proven_phone(turn)


def ask_number(turn: Turn) -> None:
    """Ask for a mobile number to send a code to; the step waits (`Snapshot.step`)."""
    turn.draft.state, turn.draft.page, turn.draft.notice = AskingNumber(), 0, ""
    turn.event("verification_asked")
    states.show(turn)


def number_question(turn: Turn) -> Reply:
    return Reply(turn.builtin("verify_number"))


def code_question(turn: Turn, state: AskingCode) -> Reply:
    options = turn.numbered([turn.builtin("send_new_code"), turn.builtin("other_number")])
    return Reply(turn.builtin("verify_code", {"phone": state.phone}), options)


def number_answer(turn: Turn, service: CompiledService, raw: str) -> None:
    number = mobile_number(raw, service.definition.phone_region)
    if isinstance(number, str):
        turn.draft.state = SendingCode(number)
        turn.effects.append(SendCode(number, turn.lang))
    else:
        states.show(turn, turn.builtin(number.reason, number.params))


def code_answer(turn: Turn, state: AskingCode, raw: str) -> None:
    code = "".join(c for c in raw if c not in " -")
    if code.isascii() and code.isdigit() and len(code) == CODE_DIGITS:
        turn.effects.append(CheckCode(state.phone, code))  # "000001" is a code
        return
    labels = [turn.builtin("send_new_code"), turn.builtin("other_number")]
    choice = pick(raw, labels, ["resend", "change"])
    if choice == 0:
        turn.effects.append(SendCode(state.phone, turn.lang))
    elif choice == 1:
        turn.draft.state, turn.draft.page = AskingNumber(), 0
        states.show(turn)
    else:
        states.show(turn, turn.builtin("bad_code"))


def result(
    turn: Turn, service: CompiledService, state: SendingCode | AskingCode, outcome: EffectResult
) -> None:
    """A code sent (first, or again from the code's question), or a code checked."""
    draft = turn.draft
    if isinstance(outcome, CodeSent):
        if outcome.ok:
            draft.state, draft.page = AskingCode(state.phone), 0
            again = isinstance(state, AskingCode)
            states.show(turn, turn.builtin("code_sent_again") if again else "")
            return
        draft.state, draft.page = AskingNumber(), 0
        turn.event("verification_failed", reason=outcome.reason or "unavailable")
        states.show(turn, turn.builtin(_NOT_SENT.get(outcome.reason, "codes_unavailable")))
    elif isinstance(outcome, CodeChecked) and isinstance(state, AskingCode):
        _checked(turn, service, state, outcome)


def _checked(turn: Turn, service: CompiledService, state: AskingCode, outcome: CodeChecked) -> None:
    if not outcome.ok:
        turn.event("verification_failed", reason=outcome.reason)
        if outcome.reason == "wrong" and outcome.tries_left > 0:
            states.show(turn, turn.builtin("code_wrong", {"tries": outcome.tries_left}))
        else:
            states.show(turn, turn.builtin("code_expired"))
        return
    draft = turn.draft
    draft.phone, draft.state, draft.page = state.phone, Asking(), 0
    turn.event("verified")
    turn.say(Reply(turn.builtin("verified")))
    navigation.enter(turn, service, draft.step, revisit=False)
