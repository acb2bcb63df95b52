"""E300-E304, E307, W300: a question no answer can pass.

Its fields contradict each other (`min` above `max`, a pattern nothing matches, a choice
without options): every citizen is refused there forever and loses the answers given so
far, so these are errors. Each step type knows what contradicts in its own fields
(`InputStep.contradictions`); this check only reports them where they are written.
"""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import InputStep
from dialogs.steps.base import ContradictionKind

CODES = ("E300", "E301", "E302", "E303", "E304", "E307", "W300")

_CODE: dict[ContradictionKind, str] = {
    "range": "E300",  # a number's `min` above its `max`
    "length": "E301",  # a text's `min_length` above its `max_length`
    "dates": "E302",  # a date's earliest above its latest, every day
    "pattern": "E303",  # a pattern no answer matches
    "pattern_length": "E304",  # a pattern that matches only answers too short or too long
    "options": "E307",  # a choice with nothing to choose
    "some_dates": "W300",  # a date's range empty on some days only (months against days)
}


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    return [
        loaded.at(
            ["steps", index, *contradiction.field],
            _CODE[contradiction.kind],
            f"step {step.id!r}: {contradiction.message}",
            contradiction.hint,
        )
        for index, step in enumerate(definition.step_list)
        if isinstance(step, InputStep)  # only a question is asked for an answer
        for contradiction in step.contradictions()
    ]
