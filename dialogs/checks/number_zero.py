"""W280: a number question that accepts 0 while `0` means Back.

Commands are read before answers, so a citizen typing 0 goes back instead of answering.
"""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.number import NumberStep

CODES = ("W280",)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    if "0" not in definition.commands.back:
        return []
    return [
        loaded.at(
            ["steps", index, "min"] if step.min is not None else ["steps", index, "id"],
            "W280",
            f"{step.id!r} accepts 0, but 0 means Back: a citizen cannot answer 0",
            "Set `min: 1` if 0 is not a real answer, or remove 0 from `commands.back`.",
        )
        for index, step in enumerate(definition.step_list)
        if isinstance(step, NumberStep)
        and (step.min is None or step.min <= 0)
        and (step.max is None or step.max >= 0)
    ]
