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


def way_out(definition: ServiceDefinition, position: int) -> bool:
    """Whether the conversation leaves the graph at step `position`: it ends there, or a
    way on is missing, which other checks report (E201 a branch to an unknown step, E204
    only conditional branches, E205 nothing follows)."""
    steps = definition.step_list
    step = steps[position]
    if step.kind == "final":
        return True
    known = {s.id for s in steps}
    following = steps[position + 1].id if position + 1 < len(steps) else None
    branches = branches_of(step, following)
    failure = step.fails_to()
    return (
        not branches
        or all(branch.when for branch in branches)
        or any(branch.goto not in known for branch in branches)
        or (failure is not None and failure not in known)
    )


def finishing(definition: ServiceDefinition) -> set[int]:
    """Indexes of the steps from which some path leaves the graph (`way_out`)."""
    incoming: dict[int, list[int]] = {}
    for edge in edges(definition):
        incoming.setdefault(edge.target, []).append(edge.source)
    done = {i for i in range(len(definition.step_list)) if way_out(definition, i)}
    todo = list(done)
    while todo:
        for source in incoming.get(todo.pop(), []):
            if source not in done:
                done.add(source)
                todo.append(source)
    return done


def closed_loops(definition: ServiceDefinition) -> list[list[int]]:
    """Sets of reachable steps (each in file order) that a conversation, once in, can
    never leave and that hold no way out: every path from them comes back.

    Steps that cannot finish only lead to steps that cannot finish; the closed loops are
    the groups among them that all lead to each other and to nothing else.
    """
    stuck = reachable(definition) - finishing(definition)
    outgoing: dict[int, set[int]] = {i: set() for i in stuck}
    for edge in edges(definition):
        if edge.source in stuck:
            outgoing[edge.source].add(edge.target)
    leads_to = {i: _closure(i, outgoing) for i in stuck}
    loops: list[list[int]] = []
    placed: set[int] = set()
    for position in sorted(stuck):
        if position in placed:
            continue
        group = sorted(j for j in leads_to[position] if position in leads_to[j])
        placed.update(group)
        if group and all(leads_to[j] <= set(group) for j in group):
            loops.append(group)
    return loops


def _closure(start: int, outgoing: dict[int, set[int]]) -> set[int]:
    """The steps reachable from `start` in one or more moves."""
    seen: set[int] = set()
    todo = list(outgoing[start])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(outgoing[current])
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
