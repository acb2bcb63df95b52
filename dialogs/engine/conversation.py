"""One inbound message into a conversation: begin one, or carry one on (a command, an
answer, an effect's result, or a new dial reaching it)."""

from __future__ import annotations

from dialogs.catalog import Catalog
from dialogs.engine import correction, menu, navigation, resume, states
from dialogs.engine.reading import clean, is_keypad
from dialogs.engine.turn import Turn
from dialogs.messages import Inbound, Outcome, Reply
from dialogs.session import Draft, Opening, Snapshot


def act(catalog: Catalog, snapshot: Snapshot | None, inbound: Inbound) -> Outcome:
    """Act on one inbound message; the caller stores the snapshot and performs effects."""
    if snapshot is not None and snapshot.ended and inbound.result is not None:
        return Outcome(snapshot)  # a repeated effect result (at-least-once delivery)
    turn = Turn(catalog, inbound, snapshot)
    if snapshot is None or snapshot.ended:
        begin(turn)
    else:
        carry_on(turn)
    return turn.outcome()


def begin(turn: Turn) -> None:
    """A new conversation: the service asked for (or the only one), else the menu, where
    a first message in words is understood."""
    inbound, catalog = turn.inbound, turn.catalog
    turn.draft = Draft(
        id=inbound.conversation_id,
        lang=inbound.lang or turn.draft.lang,
        started=inbound.now.isoformat(),
    )
    if inbound.correction is not None and correction.start(turn, inbound.correction):
        return
    listed = catalog.menu()
    chosen = catalog.get(inbound.service) if inbound.service else None
    if chosen is None and len(listed) == 1:
        chosen = listed[0]
    if chosen is not None:
        navigation.start(turn, chosen)
    elif not listed:
        turn.say(Reply(turn.builtin("no_services"), end=True))
        turn.end()
    else:
        menu.to_menu(turn)
        raw = clean(inbound.text) if turn.profile.free_text else ""
        if not raw or is_keypad(raw):
            states.show(turn)  # a dial, or an answer to a menu long gone: the menu
        elif not navigation.command(turn, raw):
            # "I want to register my shop": nothing shown yet until the classifier's
            # answer comes back in this turn.
            turn.draft.state = Opening()
            menu.answer(turn, raw, first=True)


def carry_on(turn: Turn) -> None:
    """A conversation in flight, on the version of its service it started on."""
    draft, inbound = turn.draft, turn.inbound
    if draft.service is not None:
        turn.service = turn.catalog.get(draft.service, draft.version)
        if turn.service is None or draft.step not in turn.service.steps:
            # The pinned version was withdrawn: start the published one afresh.
            published = turn.catalog.get(draft.service)
            if published is None:
                begin(turn)
            else:
                navigation.start(turn, published)
            return
    service = turn.service
    if turn.meaning is not None:
        raw = clean(turn.meaning.text)  # the message the classifier was asked about
    elif inbound.result is not None:
        states.resulted(turn, inbound.result)
        return
    elif inbound.resume and service is not None and (draft.trail or draft.answers):
        resume.offer(turn, service)
        return
    else:
        raw = clean(inbound.choice if inbound.choice is not None else inbound.text)
    if not navigation.command(turn, raw):
        states.answered(turn, raw)
