"""YAML text with source positions: parsing, and syntax mistakes reported at their cause.

A syntax error is reported where the author must fix it: a quote that is never closed at
the line where it opens, not where the parser finally gave up lines below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from dialogs.problems import Problem


@dataclass(frozen=True, slots=True)
class Locator:
    """Finds the line and column of a value in the YAML it was read from."""

    root: yaml.Node | None

    def find(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        node = self.root
        if node is None:
            return 1, 1
        key_node: yaml.Node | None = None
        for part in path:
            child = _child(node, part)
            if child is None:
                continue  # e.g. the discriminator name pydantic adds to a union's path
            key_node, node = child
        mark = (key_node if key and key_node is not None else node).start_mark
        return mark.line + 1, mark.column + 1

    def path_at(self, line: int, col: int) -> tuple[str | int, ...]:
        """The path of the innermost value written where (`line`, `col`) is, or of the
        key there: the field a problem reported at that place is about (the studio shows
        it at that field of its form)."""
        where = (line - 1, col - 1)
        path: list[str | int] = []
        node = self.root
        while node is not None:
            found = _holding(node, where)
            if found is None:
                break
            part, node = found
            path.append(part)
        return tuple(path)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                return key_node, value_node
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part], node.value[part]
    return None


def _starts(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column


def _holds(first: yaml.Node, last: yaml.Node, where: tuple[int, int]) -> bool:
    end = (last.end_mark.line, last.end_mark.column)
    return _starts(first) <= where <= end


def _holding(node: yaml.Node, where: tuple[int, int]) -> tuple[str | int, yaml.Node] | None:
    """The key or index of `node`'s child written at `where`, and that child."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and _holds(key_node, value_node, where):
                return str(key_node.value), value_node
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            if _holds(item, item, where):
                return index, item
    return None


ALIASES = "Anchors and aliases (`&name`, `*name`) are not read here: write the text out."


def parse_yaml(text: str, file: str) -> tuple[Any, Locator, list[Problem]]:
    """YAML text -> (data, locator, problems); duplicate keys are problems, not overwrites.

    Anchors and aliases are refused: nobody needs them in a service, and a few lines of
    nested aliases ("billion laughs") expand to more than any machine can walk."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return None, Locator(None), [_syntax_problem(exc, text, file)]
    except (yaml.YAMLError, RecursionError) as exc:  # a character YAML refuses; too deep
        deep = isinstance(exc, RecursionError)
        reason = "nested too deeply" if deep else str(exc).split("\n")[0]
        hint = "Nest fewer lists and mappings." if deep else "Remove the control character."
        return None, Locator(None), [Problem(file, 1, 1, "E001", f"YAML: {reason}", hint)]
    alias = _first_alias(root)
    if alias is not None:
        line, col = alias.start_mark.line + 1, alias.start_mark.column + 1
        return None, Locator(None), [Problem(file, line, col, "E001", "YAML alias", ALIASES)]
    problems = [
        Problem(
            file,
            k.start_mark.line + 1,
            k.start_mark.column + 1,
            "E002",
            f"duplicate key {k.value!r}",
            "Each key may appear once in a mapping.",
        )
        for k in _duplicate_keys(root)
    ]
    loader = yaml.SafeLoader("")
    data = loader.construct_document(root) if root is not None else None
    return data, Locator(root), problems


UNCLOSED_QUOTE = "This quote is never closed: add the closing quote at the end of the text."


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    problem = exc.problem or str(exc)
    mark = exc.problem_mark or exc.context_mark
    hint = "Check indentation and quotes around this line."
    context = exc.context or ""
    ran_off = "end of stream" in problem or "document separator" in problem
    if "quoted scalar" in context and ran_off and exc.context_mark is not None:
        # The scanner ran off the end of the file (or into `---`) inside a quote: where the
        # quote opened is what needs fixing, not where the file ended.
        mark, hint = exc.context_mark, UNCLOSED_QUOTE
    elif "flow" in context and (ran_off or "<stream end>" in problem):
        if exc.context_mark is not None:
            mark, hint = exc.context_mark, "This bracket is never closed."
    else:
        opened = _swallowing_quote(text, exc.problem_mark)
        if opened is not None:
            mark, hint = opened, UNCLOSED_QUOTE
    message = f"YAML syntax: {problem}" + (f" {exc.context}" if exc.context else "")
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, col, "E001", message, hint)


def _swallowing_quote(text: str, at: yaml.Mark | None) -> yaml.Mark | None:
    """Where an unclosed quote opened when its text ran on over later lines until the next
    quote closed it, so the parser complains lines below (`prompt: "Name` then, two lines
    on, `prompt: "Age"`): a quoted text spanning lines and ending right before the error."""
    if at is None:
        return None
    last: yaml.ScalarToken | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= at.index:
                break
            last = token if isinstance(token, yaml.ScalarToken) else None
    except yaml.MarkedYAMLError:
        pass  # the scan ran into the same error: the tokens before it are what counts
    if last is None or last.style not in ('"', "'") or last.end_mark.line != at.line:
        return None
    # A text meant to span lines does not hold YAML keys or list items.
    swallowed = text[last.start_mark.index : last.end_mark.index].splitlines()[1:]
    return last.start_mark if any(_LOOKS_LIKE_YAML.match(line) for line in swallowed) else None


_LOOKS_LIKE_YAML = re.compile(r"^\s*(?:- |[A-Za-z_][\w-]*:(?:\s|$))")


def _first_alias(root: yaml.Node | None) -> yaml.Node | None:
    """A node met twice while walking the document: where an alias repeats an anchor."""
    seen: set[int] = set()
    waiting = [root] if root is not None else []
    while waiting:
        node = waiting.pop()
        if id(node) in seen:
            return node
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            waiting += [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            waiting += node.value
    return None


def _duplicate_keys(node: yaml.Node | None) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    yield key_node
                seen.add(key_node.value)
            yield from _duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)
