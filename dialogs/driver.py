"""Runs the engine until it waits for the citizen, performing effects on the way.

`conversation_turn` is a generator: it yields each effect and is sent its result, so the
same loop serves a synchronous caller (`run`, with a plain callback: tests, simulator) and
an asynchronous one (the gateway, awaiting HTTP). The loop itself does no I/O.

Each caller performs effects through an `EffectTable`: effect type -> the function that
performs it, built once, so a new kind of effect is one function per caller.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, get_args

from dialogs.catalog import Catalog
from dialogs.engine import act
from dialogs.messages import Effect, EffectResult, Inbound, Outcome
from dialogs.session import Snapshot

Perform = Callable[[Effect], EffectResult]
MAX_EFFECTS = 50  # per inbound message; a definition cannot chain more lookups than this
EFFECT_TYPES: tuple[type[Any], ...] = get_args(Effect)

P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E")


class EffectTable(Generic[P, R]):
    """Effect type -> the function performing it: `table(effect, *args)` calls the one for
    the effect's type with the caller's `args` (its mocks, its service...)."""

    __slots__ = ("_by_type",)

    def __init__(self) -> None:
        self._by_type: dict[type[Any], Callable[Concatenate[Any, P], R]] = {}

    def on(
        self, kind: type[E]
    ) -> Callable[[Callable[Concatenate[E, P], R]], Callable[Concatenate[E, P], R]]:
        """Register the decorated function as the performer of effects of type `kind`."""

        def register(perform: Callable[Concatenate[E, P], R]) -> Callable[Concatenate[E, P], R]:
            self._by_type[kind] = perform
            return perform

        return register

    def missing(self) -> list[type[Any]]:
        """Effect types without a performer (each table must have none)."""
        return [kind for kind in EFFECT_TYPES if kind not in self._by_type]

    def __call__(self, effect: Effect, *args: P.args, **kwargs: P.kwargs) -> R:
        perform = self._by_type.get(type(effect))
        if perform is None:
            raise TypeError(f"no performer for {type(effect).__name__}")
        return perform(effect, *args, **kwargs)


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
