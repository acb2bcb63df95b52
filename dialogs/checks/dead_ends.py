"""E204/E205: a step (other than `end`) after which the conversation has nowhere to go.

The engine closes such a conversation with "temporarily unavailable": the citizen loses
every answer, so these are errors.
"""

from __future__ import annotations

from dialogs.compiler import branches_of
from dialogs.loader import Loaded
from dialogs.problems import Problem

CODES = ("E204", "E205")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    problems: list[Problem] = []
    for index, step in enumerate(steps):
        if step.kind == "final":
            continue
        following = steps[index + 1].id if index + 1 < len(steps) else None
        branches = branches_of(step, following)
        if not branches:
            problems.append(
                loaded.at(
                    ["steps", index, "next"] if step.next is not None else ["steps", index, "id"],
                    "E205",
                    f"step {step.id!r} has no way on: nothing follows it",
                    "Add `next:`, or finish the service with a step of type `end`.",
                )
            )
        elif all(branch.when for branch in branches):
            problems.append(
                loaded.at(
                    ["steps", index, "next"],
                    "E204",
                    f"every branch of step {step.id!r} has an `if`: when none holds, "
                    "the conversation stops",
                    "End the list with a branch that has only `goto:`.",
                    key=True,
                )
            )
    return problems
