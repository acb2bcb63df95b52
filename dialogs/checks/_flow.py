"""The step graph as the checks see it: edges, reachability and answers surely set.

Shared by several checks, registered as none. It must never assume a valid graph: an edge
to an unknown step is dropped (E201 reports it) and a duplicate id means its first step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dialogs.compiler import branches_of
from dialogs.definition import ServiceDefinition
from dialogs.steps import StepBase

EdgeKind = Literal["next", "error"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A way from one step (by index) to another: its `next`, or its failure way (a
    lookup's `on_error`)."""

    source: int
    target: int
    kind: EdgeKind


def saves_answer(step: StepBase) -> bool:
    """Whether going on from `step` (its `next` edge) sets `answers.<id>` (a lookup's: the
    registry's reply, on success only)."""
    return step.answer_is_saved()


def edges(definition: ServiceDefinition) -> list[Edge]:
    steps = definition.step_list
    index: dict[str, int] = {}
    for position, step in enumerate(steps):
        index.setdefault(step.id, position)
    found: list[Edge] = []
    for position, step in enumerate(steps):
        if step.next is None and step.kind != "final":
            # The following step by position, even when its id is used twice (E202).
            if position + 1 < len(steps):
                found.append(Edge(position, position + 1, "next"))
        else:
            for branch in branches_of(step, None):
                if branch.goto in index:
                    found.append(Edge(position, index[branch.goto], "next"))
        failure = step.fails_to()
        if failure is not None and failure in index:
            found.append(Edge(position, index[failure], "error"))
    return found


def reachable(definition: ServiceDefinition) -> set[int]:
    """Indexes of the steps a conversation can arrive at from the first step."""
    outgoing: dict[int, list[int]] = {}
    for edge in edges(definition):
        outgoing.setdefault(edge.source, []).append(edge.target)
    seen = {0}
    todo = [0]
    while todo:
        for target in outgoing.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def definitely_set(definition: ServiceDefinition) -> list[frozenset[str] | None]:
    """For each step, the answers set on EVERY path from the start to it (None: unreachable).

    A must-analysis: a step's set is the intersection over its incoming edges of what the
    source had, plus the source's own answer on a `next` edge (a lookup's answer is missing
    on its error edge). Sets start full and only shrink, so loops settle.
    """
    steps = definition.step_list
    graph = edges(definition)
    alive = reachable(definition)
    everything = frozenset(s.id for s in steps if saves_answer(s))
    before: list[frozenset[str]] = [everything] * len(steps)
    before[0] = frozenset()
    changed = True
    while changed:
        changed = False
        for position in sorted(alive - {0}):
            incoming = [e for e in graph if e.target == position and e.source in alive]
            new = everything
            for edge in incoming:
                new &= after(steps, before, edge.source, edge.kind)
            if new != before[position]:
                before[position], changed = new, True
    return [before[i] if i in alive else None for i in range(len(steps))]


def after(
    steps: Sequence[StepBase], before: Sequence[frozenset[str]], position: int, kind: EdgeKind
) -> frozenset[str]:
    """What is set when leaving step `position` along an edge of `kind`."""
    step = steps[position]
    if kind == "error":
        return before[position] - {step.id}  # the engine drops a failed lookup's old reply
    if saves_answer(step):
        return before[position] | {step.id}
    return before[position]
