"""The names a template or condition reads, as chains from a context name, and the
close spelling of a name that does not exist.

`{{ answers.citizen.name }}` reads the chain `answers` -> (`citizen`, `name`). Each read
knows whether it is a presence test: `{% if answers.x %}`, `answers.x or ...`,
`answers.x | default(...)`, `answers.x is defined`, or a condition that is just
`answers.x`. Its author has thought of the value missing. A comparison (`answers.x ==
"a"`) is no presence test: it reads the value. Shared by the checks of names.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from jinja2 import nodes

from dialogs.checks._sources import Source
from dialogs.expressions import TEXT_ENV

PRESENCE_TESTS = frozenset({"defined", "undefined", "none"})


@dataclass(frozen=True, slots=True)
class Read:
    """`root.path[0].path[1]...` read by a text; `presence`: only tested for presence."""

    root: str
    path: tuple[str, ...]
    presence: bool


def reads(source: Source, roots: Collection[str]) -> set[Read]:
    """The chains from any of `roots` that `source` reads (raises on a syntax error)."""
    condition = source.kind == "condition"
    tree = TEXT_ENV.parse("{{ " + source.text + " }}" if condition else source.text)
    found: set[Read] = set()
    walker = _Walker(frozenset(roots), found)
    if condition:  # the whole condition is a test
        for output in tree.find_all(nodes.Output):
            for node in output.nodes:
                walker.walk(node, True)
    else:
        walker.walk(tree, False)
    return found


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` is most likely a misspelling of (None: none is close)."""
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return close[0]
    # Too far apart for a typo, but an abbreviation (`ref`) or a name with a qualifier
    # (`first_name`, `reference_number`) of a known one.
    within = [
        k
        for k in names
        if min(len(k), len(name)) >= 3
        and (k.startswith(name) or name.startswith(k) or name.endswith(k))
    ]
    return max(within, key=len) if within else None


def did_you_mean(name: str, known: Iterable[str], written: str = "{}") -> str:
    """`Did you mean `answers.name`?` (`written` formats the suggestion), or nothing."""
    close = closest(name, known)
    return f"Did you mean `{written.format(close)}`? " if close else ""


@dataclass(frozen=True, slots=True)
class _Walker:
    roots: frozenset[str]
    found: set[Read]

    def walk(self, node: nodes.Node, presence: bool) -> None:
        if isinstance(node, nodes.If | nodes.CondExpr):
            self._conditional(node)
        elif isinstance(node, nodes.Or):
            self.walk(node.left, True)
            self.walk(node.right, True)
        elif isinstance(node, nodes.And | nodes.Not):
            for child in node.iter_child_nodes():
                self.walk(child, presence)
        elif isinstance(node, nodes.Filter) and node.name in ("default", "d") and node.node:
            self.walk(node.node, True)
            for child in node.args:
                self.walk(child, False)
        elif isinstance(node, nodes.Test) and node.name in PRESENCE_TESTS:
            self.walk(node.node, True)
        elif isinstance(node, nodes.Call) and self._get_call(node, presence):
            pass
        elif isinstance(node, nodes.Getattr | nodes.Getitem):
            self._chain(node, presence)
        else:
            for child in node.iter_child_nodes():
                self.walk(child, False)

    def _conditional(self, node: nodes.If | nodes.CondExpr) -> None:
        # The test only asks whether a name is there; the branches read what they name.
        self.walk(node.test, True)
        rest: list[nodes.Node | None] = (
            [*node.body, *node.elif_, *node.else_]
            if isinstance(node, nodes.If)
            else [node.expr1, node.expr2]
        )
        for child in rest:
            if child is not None:
                self.walk(child, False)

    def _get_call(self, call: nodes.Call, presence: bool) -> bool:
        # `answers.get("cid")` reads the answer "cid", not one named "get".
        func = call.node
        first = call.args[0] if call.args else None
        if not (
            isinstance(func, nodes.Getattr)
            and func.attr == "get"
            and isinstance(first, nodes.Const)
            and isinstance(first.value, str)
        ):
            return False
        inner = func.node
        if not (isinstance(inner, nodes.Name) and inner.name in self.roots):
            return False
        self.found.add(Read(inner.name, (first.value,), presence))
        for child in call.args[1:]:
            self.walk(child, False)
        return True

    def _chain(self, node: nodes.Getattr | nodes.Getitem, presence: bool) -> None:
        # Unwind `root.a["b"].c` from the outside in; a computed key (`answers[x]`)
        # breaks the chain: what lies outside it is not known.
        parts: list[str] = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            if isinstance(current, nodes.Getattr):
                parts.insert(0, current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str):
                parts.insert(0, current.arg.value)
            else:
                self.walk(current.arg, False)
                parts = []
            current = current.node
        if isinstance(current, nodes.Name) and current.name in self.roots:
            if parts:
                self.found.add(Read(current.name, tuple(parts), presence))
        else:
            self.walk(current, presence)  # answers.citizen.name tests answers.citizen too
