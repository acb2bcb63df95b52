"""W203: a step no conversation can arrive at from the first step.

A warning, not an error: an unreachable step never harms a citizen (the engine cannot go
there), and civil servants park steps while reworking a service; an error would block
publishing until they delete that work. It still often means a forgotten `goto`.
"""

from __future__ import annotations

from dialogs.checks._flow import reachable
from dialogs.loader import Loaded
from dialogs.problems import Problem

CODES = ("W203",)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    alive = reachable(definition)
    return [
        loaded.at(
            ["steps", index, "id"],
            "W203",
            f"step {step.id!r} can never be reached from the first step {steps[0].id!r}",
            "Point a `next`, a branch `goto` or an `on_error` at it, or remove it.",
        )
        for index, step in enumerate(steps)
        if index not in alive
    ]
