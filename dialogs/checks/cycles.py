"""E305/E306/W305: a conversation that goes round for ever, or a step that starts again.

A step whose every way on leads back to itself asks (or calls a registry) again and
again; a group of steps that only lead to each other never reaches an end. Either way
the citizen cannot finish and loses every answer, so these are errors. A loop with a way
out (an "Add another item?" question whose last branch leaves) is fine, even when the
way out has an `if`: whether such a condition can hold is the conditions' check. A step
whose default branch leads back to itself only warns: the citizen can still answer so
that a condition holds, but is asked again with no word of why.
"""

from __future__ import annotations

from dialogs.checks._flow import closed_loops, edges
from dialogs.compiler import branches_of
from dialogs.definition import ServiceDefinition
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import StepBase

CODES = ("E305", "E306", "W305")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    problems: list[Problem] = []
    for index, step in enumerate(steps):
        problems += _to_itself(loaded, index, step)
    for loop in closed_loops(definition):
        if len(loop) == 1 and _only_to_itself(steps[loop[0]]):
            continue  # E305 says it more precisely
        source, target = _closing_jump(definition, loop)
        names = ", ".join(repr(steps[i].id) for i in loop)
        problems.append(
            loaded.at(
                _written_at(steps[source], source, steps[target].id),
                "E306",
                f"steps {names} lead only to each other: no end can be reached from them "
                f"(this way back to {steps[target].id!r} closes the loop)",
                "Give one of them a branch (the last one, without `if`) to a step outside "
                "the loop that leads to an `end`.",
            )
        )
    return problems


def _only_to_itself(step: StepBase) -> bool:
    branches = branches_of(step, None)  # as written: the following step is never itself
    return bool(branches) and all(branch.goto == step.id for branch in branches)


def _to_itself(loaded: Loaded, index: int, step: StepBase) -> list[Problem]:
    """E305 when every way on (or the failure way) of `step` is itself; W305 when its
    default branch is."""
    found: list[Problem] = []
    if _only_to_itself(step):
        found.append(
            loaded.at(
                ["steps", index, "next"],
                "E305",
                f"step {step.id!r} goes on to itself: the conversation never leaves it",
                "Point `next` (or a branch's `goto`) at the step that should follow.",
                key=True,
            )
        )
    elif isinstance(step.next, list) and len(step.next) > 1:
        last = step.next[-1]
        if not last.when and last.goto == step.id:
            found.append(
                loaded.at(
                    ["steps", index, "next", len(step.next) - 1, "goto"],
                    "W305",
                    f"when no condition holds, step {step.id!r} starts again: the citizen "
                    "is asked the same again without a word of why",
                    "Point the last branch at the step that should follow; to ask again, "
                    "say why first with an `info` step that leads back here.",
                )
            )
    if step.fails_to() == step.id:
        found.append(
            loaded.at(
                _named_at(step, index, step.id),
                "E305",
                f"step {step.id!r} goes back to itself when it fails: while it fails, it "
                "runs again and again, and the citizen never hears why",
                "Point it at a step that tells the citizen what happened (and may offer "
                "to try again).",
            )
        )
    return found


def _closing_jump(definition: ServiceDefinition, loop: list[int]) -> tuple[int, int]:
    """The way back up the file that closes the loop (the last one, when several do):
    services are written top-down, so that is where the author sent the citizen back."""
    members = set(loop)
    backwards = [
        (edge.source, edge.target)
        for edge in edges(definition)
        if edge.source in members and edge.target in members and edge.target <= edge.source
    ]
    return max(backwards, default=(loop[0], loop[0]))


def _written_at(step: StepBase, index: int, target: str) -> list[str | int]:
    """Where `step` names `target` as a way on: its `next`, a branch's `goto`, or a field
    such as a lookup's `on_error`."""
    if step.next == target:
        return ["steps", index, "next"]
    if isinstance(step.next, list):
        for number in reversed(range(len(step.next))):
            if step.next[number].goto == target:
                return ["steps", index, "next", number, "goto"]
    return _named_at(step, index, target)


def _named_at(step: StepBase, index: int, target: str) -> list[str | int]:
    """Where `step` names `target` besides `next` (a lookup's `on_error`)."""
    for path, name in step.step_names():
        if name == target:
            return ["steps", index, *path]
    return ["steps", index, "id"]
