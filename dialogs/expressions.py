"""The one expression language of service definitions: sandboxed Jinja2.

Templates (`{{ answers.business_name }}`) and conditions (`answers.weight > 25`) are
compiled once, when a service is compiled. Citizens' answers only ever enter as data in
the render context, never as template source, so `{{ 7*7 }}` typed by a citizen is shown
back verbatim.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Names a definition may use in templates and conditions.
CONTEXT_NAMES = frozenset({"answers", "labels", "service", "submission", "lang", "today"})


def _url_part(value: Any) -> str:
    # Every inserted value is percent-encoded, so an answer cannot add path segments or
    # query parameters to a registry URL.
    # Dots too: an answer of ".." must not climb the registry's path.
    return quote("" if value is None else str(value), safe="").replace(".", "%2E")


def _environment(**options: Any) -> ImmutableSandboxedEnvironment:
    # ChainableUndefined renders a missing value as empty text instead of raising: the
    # checker reports undefined names at authoring time; at run time a citizen must never
    # see a crash.
    return ImmutableSandboxedEnvironment(
        undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=False, **options
    )


TEXT_ENV = _environment()
URL_ENV = _environment(finalize=_url_part)


class ExpressionError(ValueError):
    """A template or condition that does not compile; carries Jinja's message."""


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled text template. Plain text (no `{{`) skips Jinja entirely."""

    source: str
    render_fn: Callable[[Mapping[str, Any]], str] | None

    def render(self, context: Mapping[str, Any]) -> str:
        if self.render_fn is None:
            return self.source
        try:
            return self.render_fn(context)
        except Exception:
            return self.source


def compile_template(source: str, *, url: bool = False) -> Template:
    """Compile `source` once; raises ExpressionError on a syntax error."""
    if "{{" not in source and "{%" not in source:
        return Template(source, None)
    env = URL_ENV if url else TEXT_ENV
    try:
        compiled = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise ExpressionError(exc.message or str(exc)) from exc
    return Template(source, compiled.render)


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled boolean expression over the render context."""

    source: str
    evaluate_fn: Callable[..., Any]

    def __call__(self, context: Mapping[str, Any]) -> bool:
        try:
            return bool(self.evaluate_fn(**context))
        except Exception:
            return False


def compile_condition(source: str) -> Condition:
    """Compile a condition such as `answers.business_type == "medium"`."""
    try:
        TEXT_ENV.compile_expression(source)  # refuses anything but one expression
        template = TEXT_ENV.from_string("{% set result = (" + source + ") %}")
    except TemplateSyntaxError as exc:
        raise ExpressionError(exc.message or str(exc)) from exc

    def evaluate(**context: Any) -> Any:
        # What Jinja's compile_expression does, minus a copy of the globals per call
        # (shared context): conditions are evaluated on every answer.
        frame = template.new_context(context, shared=True)
        deque(template.root_render_func(frame), maxlen=0)
        return frame.vars.get("result")

    return Condition(source, evaluate)


def _parse(source: str, *, expression: bool) -> nodes.Template:
    text = "{{ " + source + " }}" if expression else source
    try:
        return TEXT_ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise ExpressionError(exc.message or str(exc)) from exc


def parse_expression(source: str) -> nodes.Template:
    """A condition's syntax tree (for checks that reason about it)."""
    return _parse(source, expression=True)


@dataclass(frozen=True, slots=True)
class References:
    """What a template or condition reads: context names and `answers.<name>` fields."""

    names: frozenset[str]
    answers: frozenset[str]


def references(source: str, *, expression: bool = False) -> References:
    """Names read by a template (or by a condition when `expression` is true)."""
    tree = _parse(source, expression=expression)
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    names = {
        n.name for n in tree.find_all(nodes.Name) if n.ctx == "load" and n.name not in assigned
    }
    answers: set[str] = set()
    methods: set[int] = set()
    for call in tree.find_all(nodes.Call):
        # `answers.get("cid")` reads the answer "cid", not one named "get".
        func = call.node
        if isinstance(func, nodes.Getattr) and _is_answers(func.node):
            methods.add(id(func))
            first = (
                call.args[0].value if call.args and isinstance(call.args[0], nodes.Const) else None
            )
            if func.attr == "get" and isinstance(first, str):
                answers.add(first)
    for node in tree.find_all(nodes.Getattr):
        if _is_answers(node.node) and id(node) not in methods:
            answers.add(node.attr)
    for item in tree.find_all(nodes.Getitem):
        key = item.arg.value if isinstance(item.arg, nodes.Const) else None
        if (
            isinstance(item.node, nodes.Name)
            and item.node.name == "answers"
            and isinstance(key, str)
        ):
            answers.add(key)
    return References(frozenset(names), frozenset(answers))


def _is_answers(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "answers"
