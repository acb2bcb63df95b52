"""Every template and condition of a definition, with where it is written.

Shared by the syntax and name checks so that all see the same sources: the texts of
`definition_texts` (each language separately), each step's other templates (a lookup's
URL, query and body, a document's holder: `StepBase.templates`), and branch conditions.
`problem_at` points inside one: at the column of a name as written in the YAML file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

from dialogs.compiler import definition_texts
from dialogs.definition import ServiceDefinition
from dialogs.loader import Loaded
from dialogs.problems import Problem

SourceKind = Literal["template", "url", "condition"]


@dataclass(frozen=True, slots=True)
class Source:
    """One template or condition. `step` is the index of its step (None: service-wide)."""

    path: tuple[str | int, ...]
    text: str
    step: int | None
    kind: SourceKind


def sources(definition: ServiceDefinition) -> Iterator[Source]:
    for path, text in definition_texts(definition):
        owner = path[1] if path[0] == "steps" and isinstance(path[1], int) else None
        if isinstance(text, str):
            yield Source(path, text, owner, "template")
        else:
            for lang, variant in text.items():
                yield Source((*path, lang), variant, owner, "template")
    for index, step in enumerate(definition.step_list):
        here: tuple[str | int, ...] = ("steps", index)
        for path, source, kind in step.templates():
            yield Source((*here, *path), source, index, kind)
        if isinstance(step.next, list):
            for number, branch in enumerate(step.next):
                if branch.when:
                    yield Source((*here, "next", number, "if"), branch.when, index, "condition")


def problem_at(
    loaded: Loaded,
    source: Source,
    chain: Sequence[str],
    code: str,
    message: str,
    hint: str = "",
) -> Problem:
    """A problem at the last name of `chain` (`("answers", "nmae")`: at `nmae`) where the
    source's YAML scalar spells it; at the scalar itself when it cannot be told (a label
    from a shared list, a text spelt with escapes)."""
    where = _spelt_at(loaded, source, chain)
    if where is None:
        return loaded.at(source.path, code, message, hint)
    return Problem(loaded.file, where[0], where[1], code, message, hint)


def _spelt_at(loaded: Loaded, source: Source, chain: Sequence[str]) -> tuple[int, int] | None:
    node = _scalar(loaded.locator.root, source.path)
    buffer = node.start_mark.buffer if node is not None else None
    if node is None or buffer is None:
        return None
    start, end = node.start_mark.pointer, node.end_mark.pointer
    pattern = _chain_pattern(chain)
    # Only inside `{{ }}` and `{% %}` (a condition is code throughout): the plain words
    # of a text may spell the same name.
    spans = [(start, end)] if source.kind == "condition" else _code_spans(buffer, start, end)
    for low, high in spans:
        match = pattern.search(buffer, low, high)
        if match is not None:
            return _line_col(node.start_mark, buffer, match.start("name"))
    return None


def _scalar(root: yaml.Node | None, path: Sequence[str | int]) -> yaml.ScalarNode | None:
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            return None
    return node if isinstance(node, yaml.ScalarNode) else None


_CODE = re.compile(r"\{\{.*?(?:\}\}|$)|\{%.*?(?:%\}|$)", re.DOTALL)


def _code_spans(buffer: str, start: int, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _CODE.finditer(buffer[:end], start)]


_ACCESS = r"""\s*(?:\.\s*get\s*\(\s*["']|\.\s*|\[\s*["'])"""
"""How a name is reached from the one before: `.a`, `["a"]`, `.get("a")`."""
_CLOSE = r"""(?!\w)(?:["']\s*[\])])?"""


def _chain_pattern(chain: Sequence[str]) -> re.Pattern[str]:
    """`root.a.b` as it may be written (see `_ACCESS`); the last name is the group `name`."""
    *head, last = [re.escape(part) for part in chain]
    text = "".join(part if i == 0 else _ACCESS + part + _CLOSE for i, part in enumerate(head))
    named = "(?P<name>" + last + r")(?!\w)"
    return re.compile(r"(?<![\w.])" + (text + _ACCESS + named if head else named))


def _line_col(start: yaml.Mark, buffer: str, pointer: int) -> tuple[int, int]:
    breaks = buffer.count("\n", start.pointer, pointer)
    if breaks == 0:
        return start.line + 1, start.column + 1 + pointer - start.pointer
    return start.line + 1 + breaks, pointer - buffer.rfind("\n", 0, pointer)
