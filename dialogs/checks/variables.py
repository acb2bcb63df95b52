"""W210/E211/E212: what templates and conditions read, and whether it can be there.

- E212: a top-level name outside the render context (`answer.x`): always renders empty.
- E211: `answers.x` or `labels.x` where no step `x` saves an answer.
- W210: `answers.x` that may not be set yet on some path to the step (a branch skipped the
  question, a lookup failed); see `_flow.definitely_set`.

Presence tests are not warned about. A name that a text tests for presence anywhere
(`{% if answers.x %}`, `answers.x or ...`, `answers.x | default(...)`, `answers.x is
defined`, or a condition that is just `answers.x`) is skipped in that whole text: its
author has thought of it missing, and the usual idiom shows the value inside the `if`. A
comparison (`answers.x == "a"`) is not a presence test: it reads the value, so it warns.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError, nodes

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.checks._flow import after, definitely_set, saves_answer
from dialogs.checks._sources import Source, sources
from dialogs.expressions import CONTEXT_NAMES, TEXT_ENV, ExpressionError, references
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import StepBase

CODES = ("W210", "E211", "E212")

ANSWER_ROOTS = ("answers", "labels")
PRESENCE_TESTS = frozenset({"defined", "undefined", "none"})


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    by_id: dict[str, StepBase] = {}
    for step in steps:
        by_id.setdefault(step.id, step)
    before = definitely_set(definition)
    problems: list[Problem] = []
    for source in sources(definition):
        try:
            names = references(source.text, expression=source.kind == "condition").names
            reads = _answer_reads(source)
        except (ExpressionError, TemplateSyntaxError):
            continue  # E221/E222
        for name in sorted(names - _allowed_names(source)):
            problems.append(
                loaded.at(
                    source.path,
                    "E212",
                    f"unknown name {name!r}: it will always be empty",
                    "Names: " + ", ".join(sorted(CONTEXT_NAMES)) + ".",
                )
            )
        tested = {name for name, presence in reads if presence}
        unsure: set[str] = set()
        for name in sorted({name for name, _ in reads}):
            if name not in by_id or not saves_answer(by_id[name]):
                problems.append(_no_answer(loaded, source, name, by_id.get(name)))
            elif name not in tested:
                unsure.add(name)
        known = _set_here(source, steps, before)
        if known is None:
            continue  # an unreachable step (W203) has no paths to reason about
        for name in sorted(unsure - known):
            problems.append(
                loaded.at(
                    source.path,
                    "W210",
                    f"answers.{name} may not be set here: a path to this point skips {name!r}",
                    f"Test it first (`{{% if answers.{name} %}}`, `answers.{name} or ...`) "
                    "or ask it on every path.",
                )
            )
    return problems


def _allowed_names(source: Source) -> set[str]:
    allowed = set(CONTEXT_NAMES) | set(TEXT_ENV.globals)
    if source.path[0] == "texts" and str(source.path[1]) in BUILTIN_TEXTS:
        # An overridden built-in message may use the parameters the original uses.
        original = BUILTIN_TEXTS[str(source.path[1])]["en"]
        allowed |= references(original).names
    return allowed


def _set_here(
    source: Source, steps: list[StepBase], before: list[frozenset[str] | None]
) -> frozenset[str] | None:
    if source.step is None:
        return frozenset()  # service-wide texts show anywhere, even before any answer
    known = before[source.step]
    if known is None or source.kind != "condition":
        return known
    # A branch is chosen after the step's own answer is saved.
    return after(steps, [b or frozenset() for b in before], source.step, "next")


def _no_answer(loaded: Loaded, source: Source, name: str, step: StepBase | None) -> Problem:
    if step is None:
        message = f"answers.{name}: there is no step {name!r}"
    else:
        message = f"answers.{name}: step {name!r} ({getattr(step, 'type', '')}) saves no answer"
    return loaded.at(source.path, "E211", message, "Name the id of a question or a lookup.")


def _answer_reads(source: Source) -> set[tuple[str, bool]]:
    """(step id, read in a presence test) for each `answers.<id>` / `labels.<id>`."""
    condition = source.kind == "condition"
    tree = TEXT_ENV.parse("{{ " + source.text + " }}" if condition else source.text)
    found: set[tuple[str, bool]] = set()
    if condition:  # the whole condition is a test
        for output in tree.find_all(nodes.Output):
            for node in output.nodes:
                _walk(node, True, found)
    else:
        _walk(tree, False, found)
    return found


def _walk(node: nodes.Node, presence: bool, found: set[tuple[str, bool]]) -> None:
    if isinstance(node, nodes.If | nodes.CondExpr):
        _walk(node.test, True, found)
        rest: list[nodes.Node | None] = (
            [*node.body, *node.elif_, *node.else_]
            if isinstance(node, nodes.If)
            else [node.expr1, node.expr2]
        )
        for child in rest:
            if child is not None:
                _walk(child, False, found)
    elif isinstance(node, nodes.Or):
        _walk(node.left, True, found)
        _walk(node.right, True, found)
    elif isinstance(node, nodes.And | nodes.Not):
        for child in node.iter_child_nodes():
            _walk(child, presence, found)
    elif isinstance(node, nodes.Filter) and node.name in ("default", "d") and node.node:
        _walk(node.node, True, found)
        for child in node.args:
            _walk(child, False, found)
    elif isinstance(node, nodes.Test) and node.name in PRESENCE_TESTS:
        _walk(node.node, True, found)
    elif isinstance(node, nodes.Getattr | nodes.Getitem):
        _walk_access(node, presence, found)
    else:
        for child in node.iter_child_nodes():
            _walk(child, False, found)


def _walk_access(
    node: nodes.Getattr | nodes.Getitem, presence: bool, found: set[tuple[str, bool]]
) -> None:
    inner = node.node
    if isinstance(inner, nodes.Name) and inner.name in ANSWER_ROOTS:
        if isinstance(node, nodes.Getattr):
            found.add((node.attr, presence))
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add((node.arg.value, presence))
        return
    _walk(inner, presence, found)  # answers.citizen.name tests answers.citizen too
    if isinstance(node, nodes.Getitem):
        _walk(node.arg, False, found)
