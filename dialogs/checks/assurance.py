"""E261: an instant document reachable without a registry confirming who applies.

An instant certificate is issued to whoever reached the submit step: if that can happen
after a failed census lookup, with a typed name, anyone gets a "valid document" in any
name. So on every way to an instant submit (`assurance: registry`, the default) a lookup
with `confirms_identity` must have succeeded; a way that could reach it otherwise must go
to a `mode: review` submit (an officer checks), or the submit must say
`assurance: self-declared`.

The walk follows the step graph with one bit of state, "confirmed". A branch whose `if`
needs a confirming lookup's answer (`answers.citizen`, `answers.consent and
answers.citizen.name`) cannot be taken unconfirmed: that is how a definition routes the
two ways apart. Other conditions are assumed possible either way.
"""

from __future__ import annotations

from jinja2 import nodes

from dialogs.compiler import branches_of
from dialogs.expressions import ExpressionError, parse_expression
from dialogs.loader import Loaded
from dialogs.problems import Problem

CODES = ("E261",)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    if not steps:
        return []
    index: dict[str, int] = {}
    for position, step in enumerate(steps):
        index.setdefault(step.id, position)
    confirming = frozenset(s.id for s in steps if s.vouches_for_applicant())
    seen: set[tuple[int, bool]] = {(0, False)}
    todo = [(0, False)]
    flagged: set[int] = set()
    while todo:
        position, confirmed = todo.pop()
        step = steps[position]
        if step.needs_confirmed_applicant() and not confirmed:
            flagged.add(position)
        following = steps[position + 1].id if position + 1 < len(steps) else None
        moves: list[tuple[str, bool]] = []
        for branch in branches_of(step, following):
            if not confirmed and branch.when and required_answers(branch.when) & confirming:
                continue  # needs a confirming lookup's answer: not taken unconfirmed
            moves.append((branch.goto, confirmed or step.id in confirming))
        failure = step.fails_to()
        if failure is not None:
            # A failed lookup's answer is dropped: it confirms nothing any more.
            moves.append((failure, confirmed and step.id not in confirming))
        for target, state in moves:
            if target in index and (index[target], state) not in seen:
                seen.add((index[target], state))
                todo.append((index[target], state))
    return [
        loaded.at(
            ["steps", position, "mode"],
            "E261",
            f"step {steps[position].id!r} issues an instant document, but a conversation can "
            "reach it without a registry confirming who applies (e.g. after a failed lookup)",
            "Send that way to a `mode: review` submit (an officer checks), make a lookup "
            "with `confirms_identity: true` succeed first, or add `assurance: self-declared`.",
        )
        for position in sorted(flagged)
    ]


def required_answers(condition: str) -> frozenset[str]:
    """Answers a condition needs to be set to hold: those it tests as they are
    (`answers.citizen`, `answers.citizen.name`), alone or joined by `and`."""
    try:
        tree = parse_expression(condition)
    except ExpressionError:
        return frozenset()  # E230 reports it
    outputs = list(tree.find_all(nodes.Output))
    if len(outputs) != 1 or len(outputs[0].nodes) != 1:
        return frozenset()
    return _needed(outputs[0].nodes[0])


def _needed(node: nodes.Node) -> frozenset[str]:
    if isinstance(node, nodes.And):
        return _needed(node.left) | _needed(node.right)
    while isinstance(node, nodes.Getattr) and not (
        isinstance(node.node, nodes.Name) and node.node.name == "answers"
    ):
        node = node.node  # answers.citizen.name needs answers.citizen
    if isinstance(node, nodes.Getattr):
        return frozenset({node.attr})
    return frozenset()
