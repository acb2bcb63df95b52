"""Worst-case rendering of a text: every inserted value at its longest, the longest branch
of every `{% if %}`. Used to size USSD screens and SMS parts before any citizen sees them.

Values are stand-in letters, never real data: only their length and alphabet matter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jinja2 import TemplateSyntaxError, nodes

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.definition import ServiceDefinition
from dialogs.expressions import TEXT_ENV
from dialogs.steps import InputStep
from dialogs.steps.base import UNSIZED_LENGTH, Rejection
from dialogs.text import Text, localise

VALUE_LENGTH = UNSIZED_LENGTH  # a registry field, or anything else the checker cannot size
SUBMISSION_LENGTHS = {"reference": 20, "status": 10, "link": 60}
GSM_LETTER, NON_GSM_LETTER = "x", "ཀ"


@dataclass(frozen=True, slots=True)
class Filler:
    """How to stand in for what a template inserts."""

    lengths: Mapping[str, int]  # answers.<id> and labels.<id>, at their longest
    free: frozenset[str]  # answers typed freely (or from a registry): may be any script
    unicode: bool  # fill free answers with non-GSM letters (the SMS worst case)
    names: Mapping[str, str] = field(default_factory=dict)  # lang, today, message params
    service: Mapping[str, str] = field(default_factory=dict)


def filler(definition: ServiceDefinition, lang: str, *, unicode: bool = False) -> Filler:
    """Stand-ins for the answers of `definition`, for texts shown in `lang`."""
    lengths: dict[str, int] = {}
    free: set[str] = set()
    for step in definition.step_list:
        if step.answer_is_saved():
            # `answers.<id>` shows the saved value, `labels.<id>` the displayed one.
            lengths[step.id] = step.answer_length()
            if step.any_script:
                free.add(step.id)
    return Filler(
        lengths=lengths,
        free=frozenset(free),
        unicode=unicode,
        names={"lang": lang, "today": "2026-12-31"},
        service={
            "id": definition.id,
            "version": str(definition.version),
            "title": localise(definition.title, lang),
        },
    )


def worst_text(source: str, fill: Filler) -> str:
    """`source` rendered at its longest (unchanged when it does not parse)."""
    try:
        tree = TEXT_ENV.parse(source)
    except TemplateSyntaxError:
        return source
    return _statements(tree.body, fill).strip()


def worst(text: Text | None, lang: str, fill: Filler) -> str:
    return worst_text(localise(text, lang), fill) if text is not None else ""


def _statements(body: Sequence[nodes.Node], fill: Filler) -> str:
    return "".join(_statement(node, fill) for node in body)


def _statement(node: nodes.Node, fill: Filler) -> str:
    if isinstance(node, nodes.Output):
        return "".join(
            n.data if isinstance(n, nodes.TemplateData) else _value(n, fill) for n in node.nodes
        )
    if isinstance(node, nodes.If):
        choices = [_statements(node.body, fill), _statements(node.else_, fill)]
        choices += [_statement(branch, fill) for branch in node.elif_]
        return max(choices, key=len)
    body = getattr(node, "body", None)
    if isinstance(body, list):  # for loops (counted once), with, filter blocks...
        return _statements(body, fill)
    return ""


def _value(node: nodes.Node, fill: Filler) -> str:
    if isinstance(node, nodes.Const):
        return "" if node.value is None else str(node.value)
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        return _lookup(node, fill)
    if isinstance(node, nodes.Name):
        return fill.names.get(node.name, GSM_LETTER * VALUE_LENGTH)
    if isinstance(node, nodes.Or):
        return max(_value(node.left, fill), _value(node.right, fill), key=len)
    if isinstance(node, nodes.CondExpr):
        other = _value(node.expr2, fill) if node.expr2 is not None else ""
        return max(_value(node.expr1, fill), other, key=len)
    if isinstance(node, nodes.Filter) and node.node is not None:
        inner = _value(node.node, fill)
        if node.name in ("default", "d") and node.args:
            return max(inner, _value(node.args[0], fill), key=len)
        return inner
    if isinstance(node, nodes.Concat):
        return "".join(_value(n, fill) for n in node.nodes)
    return GSM_LETTER * VALUE_LENGTH


def _lookup(node: nodes.Getattr | nodes.Getitem, fill: Filler) -> str:
    keys: list[object] = []
    current: nodes.Node = node
    while isinstance(current, nodes.Getattr | nodes.Getitem):
        if isinstance(current, nodes.Getattr):
            keys.insert(0, current.attr)
        else:
            keys.insert(0, current.arg.value if isinstance(current.arg, nodes.Const) else None)
        current = current.node
    root = current.name if isinstance(current, nodes.Name) else None
    first = str(keys[0])
    if root in ("answers", "labels"):
        # A step that saves no answer renders as nothing (the variable check reports it).
        letter = NON_GSM_LETTER if fill.unicode and first in fill.free else GSM_LETTER
        return letter * fill.lengths.get(first, 0)
    if root == "submission":
        return GSM_LETTER * SUBMISSION_LENGTHS.get(first, VALUE_LENGTH)
    if root == "service" and first in fill.service:
        return fill.service[first]
    return GSM_LETTER * VALUE_LENGTH


def builtin(definition: ServiceDefinition, key: str) -> Text:
    """A built-in message as the service says it (its `texts:` override it)."""
    return definition.texts.get(key) or BUILTIN_TEXTS[key]


def rejections(step: InputStep) -> list[Rejection]:
    """Built-in messages a step can answer an invalid reply with, and their parameters."""
    return step.rejections()


def worst_error(definition: ServiceDefinition, step: InputStep, lang: str, fill: Filler) -> str:
    """The longest message shown above the question after an invalid answer ("" if none)."""
    if step.error is not None:
        return worst(step.error, lang, fill)
    messages = [
        worst(builtin(definition, reason), lang, _with(fill, params))
        for reason, params in rejections(step)
    ]
    return max(messages, key=len, default="")


def _with(fill: Filler, params: Mapping[str, str]) -> Filler:
    return Filler(fill.lengths, fill.free, fill.unicode, {**fill.names, **params}, fill.service)
