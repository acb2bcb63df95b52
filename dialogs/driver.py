"""Runs the engine until it waits for the citizen, performing effects through a callback.

The callback is where I/O lives (the gateway's HTTP client, a test's mocks); this loop
stays pure given a pure callback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dialogs.catalog import Catalog
from dialogs.engine import step
from dialogs.messages import Effect, EffectResult, Inbound, Outcome
from dialogs.session import Snapshot

Perform = Callable[[Effect], EffectResult]
MAX_EFFECTS = 50  # per inbound message; a definition cannot chain more lookups than this


def run(catalog: Catalog, snapshot: Snapshot | None, inbound: Inbound, perform: Perform) -> Outcome:
    """One citizen message in; every reply up to the next question out."""
    outcome = step(catalog, snapshot, inbound)
    replies, events, done = list(outcome.replies), list(outcome.events), list(outcome.effects)
    for _ in range(MAX_EFFECTS):
        if not outcome.effects:
            break
        result = perform(outcome.effects[0])
        follow = replace(inbound, text="", choice=None, result=result)
        outcome = step(catalog, outcome.snapshot, follow)
        replies += outcome.replies
        events += outcome.events
        done += outcome.effects
    return Outcome(outcome.snapshot, tuple(replies), tuple(done), tuple(events))
