"""Runs the engine until it waits for the citizen, performing effects on the way.

`conversation_turn` is a generator: it yields each effect and is sent its result, so the
same loop serves a synchronous caller (`run`, with a plain callback: tests, simulator) and
an asynchronous one (the gateway, awaiting HTTP). The loop itself does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace

from dialogs.catalog import Catalog
from dialogs.engine import act
from dialogs.messages import Effect, EffectResult, Inbound, Outcome
from dialogs.session import Snapshot

Perform = Callable[[Effect], EffectResult]
MAX_EFFECTS = 50  # per inbound message; a definition cannot chain more lookups than this


def conversation_turn(
    catalog: Catalog, snapshot: Snapshot | None, inbound: Inbound
) -> Generator[Effect, EffectResult, Outcome]:
    """One citizen message in; every reply up to the next question out."""
    outcome = act(catalog, snapshot, inbound)
    replies, events, done = list(outcome.replies), list(outcome.events), list(outcome.effects)
    for _ in range(MAX_EFFECTS):
        if not outcome.effects:
            break
        result = yield outcome.effects[0]
        follow = replace(inbound, text="", choice=None, result=result, resume="")
        outcome = act(catalog, outcome.snapshot, follow)
        replies += outcome.replies
        events += outcome.events
        done += outcome.effects
    return Outcome(outcome.snapshot, tuple(replies), tuple(done), tuple(events))


def run(catalog: Catalog, snapshot: Snapshot | None, inbound: Inbound, perform: Perform) -> Outcome:
    """`conversation_turn` with effects performed by a synchronous callback."""
    turn = conversation_turn(catalog, snapshot, inbound)
    try:
        effect = next(turn)
        while True:
            effect = turn.send(perform(effect))
    except StopIteration as finished:
        outcome: Outcome = finished.value
        return outcome
