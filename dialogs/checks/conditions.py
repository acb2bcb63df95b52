"""E320-E324/W320-W324, E330, W331: conditions that can never (or always) hold.

Each branch condition (and each `{% if %}` or `x if c else y` test in a template) is
evaluated against the values every answer can take (`StepBase.possible_values`), as the
sandboxed condition computes it: a comparison that raises (text against a number, an
unanswered question ordered) makes the whole condition false.

- E320/W320: a choice's answer compared with one of its labels instead of its value.
- E321/W321: a choice's answer compared with a value it does not have.
- E322/W322: a yes/no answer (true or false) compared with a text such as "yes".
- E323/W323: a number compared outside its range (`> 200` with `max: 120`).
- E324/W324: a number compared with the other type (a decimal answer is saved as text).
- E330: a branch condition that can never hold: its branch is dead.
- W331: a branch after one whose condition always holds: it is never tried.

Errors when the comparison can never hold (`==`, `in`), warnings when it always holds
(`!=`, `not in`). The evaluation only adds outcomes it cannot rule out; what it cannot
tell (another step's answer, a filter, two answers compared) is possible either way, so
it stays silent rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from dialogs.checks._comparisons import Comparison, Finding, mistake
from dialogs.checks._flow import after, definitely_set
from dialogs.checks._sources import Source, sources
from dialogs.expressions import TEXT_ENV, ExpressionError, parse_expression
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import StepBase
from dialogs.steps.values import ANY, ORDER, RAISES, AnswerValues, Outcomes

CODES = (
    *("E320", "W320", "E321", "W321", "E322", "W322"),
    *("E323", "W323", "E324", "W324", "E330", "W331"),
)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    values = _values_by_id(steps)
    before = definitely_set(definition)
    problems: list[Problem] = []
    for source in sources(definition):
        try:
            tests = list(_tests(source))
        except (ExpressionError, TemplateSyntaxError):
            continue  # E221/E222
        judge = _Judge(values, _set_here(source, steps, before))
        for test in tests:
            outcomes = judge.test(test)
            if source.kind == "condition":
                problems += _verdict(loaded, source, steps[source.step or 0], outcomes, judge)
        problems += [loaded.at(source.path, f.code, f.message, f.hint) for f in judge.findings]
    return problems


def _values_by_id(steps: list[StepBase]) -> dict[str, AnswerValues]:
    seen: dict[str, int] = {}
    for step in steps:
        seen[step.id] = seen.get(step.id, 0) + 1
    found: dict[str, AnswerValues] = {}
    for step in steps:
        described = step.possible_values()
        if described is not None and seen[step.id] == 1:  # an id used twice (E202): unsure
            found[step.id] = described
    return found


def _set_here(
    source: Source, steps: list[StepBase], before: list[frozenset[str] | None]
) -> frozenset[str]:
    """Answers surely set where the source is evaluated (others may be missing)."""
    known = before[source.step] if source.step is not None else None
    if known is None or source.step is None:
        return frozenset()
    if source.kind != "condition":
        return known
    # A branch is chosen after the step's own answer is saved.
    return after(steps, [b or frozenset() for b in before], source.step, "next")


def _tests(source: Source) -> Iterator[nodes.Node]:
    """The boolean tests of a source: a condition itself, a template's `if` tests."""
    if source.kind == "condition":
        output = parse_expression(source.text).body[0]
        assert isinstance(output, nodes.Output)
        yield output.nodes[0]
        return
    tree = TEXT_ENV.parse(source.text)
    for node in tree.find_all((nodes.If, nodes.CondExpr)):
        assert isinstance(node, nodes.If | nodes.CondExpr)
        yield node.test


def _verdict(
    loaded: Loaded, source: Source, step: StepBase, outcomes: Outcomes, judge: _Judge
) -> list[Problem]:
    number = int(source.path[-2])
    branches = step.next if isinstance(step.next, list) else []
    if True not in outcomes and not any(f.code.startswith("E") for f in judge.findings):
        return [
            loaded.at(
                source.path,
                "E330",
                f"this condition can never hold: the branch to {branches[number].goto!r} "
                "is never taken",
                "Fix the condition, or remove the branch.",
            )
        ]
    if outcomes == {True} and number + 1 < len(branches):
        later = len(branches) - number - 1
        return [
            loaded.at(
                [*source.path[:-2], number + 1],
                "W331",
                f"never tried: the condition of the branch above ({source.text}) always holds"
                + (f"; nor are the {later - 1} branches after this one" if later > 1 else ""),
                "Narrow the condition above, or move this branch before it.",
            )
        ]
    return []


class _Judge:
    """Evaluates tests over what answers can be; records mistaken comparisons."""

    def __init__(self, values: Mapping[str, AnswerValues], known: frozenset[str]) -> None:
        self.values = values
        self.known = known
        self.findings: list[Finding] = []

    def test(self, node: nodes.Node) -> Outcomes:
        """Every outcome the test can have: True, False or RAISES."""
        if isinstance(node, nodes.And | nodes.Or):
            # `a and b` is `a` when `a` is false, else `b`; `a or b` the other way round.
            left, right = self.test(node.left), self.test(node.right)
            goes_on = isinstance(node, nodes.And)  # the left value that lets `b` decide
            return (left - {goes_on}) | (right if goes_on in left else frozenset())
        if isinstance(node, nodes.Not):
            return frozenset(o if o == RAISES else not o for o in self.test(node.node))
        if isinstance(node, nodes.Const):
            return frozenset({bool(node.value)})
        if isinstance(node, nodes.Compare):
            return self._compare(node)
        name = _answer(node)
        if name is not None and name in self.values:
            missing = frozenset({False}) if name not in self.known else frozenset()
            return self.values[name].truth() | missing
        return ANY

    def _compare(self, node: nodes.Compare) -> Outcomes:
        if len(node.ops) != 1:
            return ANY  # a chain (`1 < x < 5`)
        op, left, right = node.ops[0].op, node.expr, node.ops[0].expr
        name, constant, answer_left = _answer(left), _constant(right), True
        if name is None:
            name, constant, answer_left = _answer(right), _constant(left), False
        if name is None or constant is None or name not in self.values:
            return ANY
        values = self.values[name]
        outcomes = values.compare(op, constant[0], answer_left=answer_left)
        finding = mistake(values, Comparison(name, op, constant[0], answer_left, outcomes))
        if finding is not None:
            self.findings.append(finding)
        if name not in self.known:
            # Unanswered, it reads as Jinja's undefined (`answers.get`: None): it equals
            # nothing and cannot be ordered.
            outcomes |= {"eq": {False}, "ne": {True}}.get(op, {RAISES} if op in ORDER else ANY)
        return outcomes


def _answer(node: nodes.Node) -> str | None:
    """The step id read by `answers.x`, `answers["x"]` or `answers.get("x")`."""
    if isinstance(node, nodes.Getattr) and _is_answers(node.node):
        return node.attr
    if isinstance(node, nodes.Getitem) and _is_answers(node.node):
        key = node.arg.value if isinstance(node.arg, nodes.Const) else None
        return key if isinstance(key, str) else None
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Getattr)
        and node.node.attr == "get"
        and _is_answers(node.node.node)
        and len(node.args) == 1
        and not node.kwargs
        and node.dyn_args is None
        and node.dyn_kwargs is None
        and isinstance(node.args[0], nodes.Const)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _is_answers(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "answers"


def _constant(node: nodes.Node) -> tuple[Any] | None:
    """The value of a literal (`"small"`, `-3`, `["a", "b"]`), in a 1-tuple; None: not one."""
    if isinstance(node, nodes.Const):
        return (node.value,)
    if isinstance(node, nodes.Neg) and isinstance(node.node, nodes.Const):
        value = node.node.value
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return (-value,) if is_number else None
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_constant(item) for item in node.items]
        if any(item is None for item in items):
            return None
        found = [item[0] for item in items if item is not None]
        return (found if isinstance(node, nodes.List) else tuple(found),)
    return None
