"""Reads definitions: YAML with source positions, shared lists, schema validation.

Text in, models and problems out: reading files is the caller's job (gateway.repository).
Positions let every problem point at its line and column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from dialogs.definition import ServiceDefinition
from dialogs.problems import Problem

PathKey = tuple[str | int, ...]


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


@dataclass(slots=True)
class Loaded:
    """A definition file: its model when valid, and what is wrong with it."""

    file: str
    definition: ServiceDefinition | None
    locator: Locator
    problems: list[Problem] = field(default_factory=list)
    raw: Any = None

    def at(
        self,
        path: Sequence[str | int],
        code: str,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
    ) -> Problem:
        line, col = self.locator.find(path, key=key)
        return Problem(self.file, line, col, code, message, hint)


def parse_yaml(text: str, file: str) -> tuple[Any, Locator, list[Problem]]:
    """YAML text -> (data, locator, problems); duplicate keys are problems, not overwrites."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax: {exc.problem or exc}"
        return (
            None,
            Locator(None),
            [
                Problem(
                    file,
                    line,
                    col,
                    "E001",
                    message,
                    "Check indentation and quotes around this line.",
                )
            ],
        )
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


def load_text(text: str, file: str, lists: dict[str, list[Any]] | None = None) -> Loaded:
    """Validate one definition's YAML text against the format."""
    data, locator, problems = parse_yaml(text, file)
    loaded = Loaded(file, None, locator, problems, data)
    if data is None and not problems:
        problems.append(
            Problem(
                file,
                1,
                1,
                "E004",
                "the file is empty",
                "Start with `format: 1`, `id:`, `version:`, `title:` and `steps:`.",
            )
        )
    if problems:
        return loaded
    if isinstance(data, dict):
        data = _with_lists(loaded, data, lists or {})
    try:
        loaded.definition = ServiceDefinition.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[int, int, str]] = set()
        for error in exc.errors():
            problem = _schema_problem(loaded, error)
            if (problem.line, problem.col, problem.code) not in seen:  # one per union branch
                seen.add((problem.line, problem.col, problem.code))
                loaded.problems.append(problem)
    return loaded


def _with_lists(loaded: Loaded, data: dict[str, Any], lists: dict[str, list[Any]]) -> Any:
    steps = data.get("steps")
    if not isinstance(steps, list):
        return data
    new_steps = []
    for index, step in enumerate(steps):
        name = step.get("options_from") if isinstance(step, dict) else None
        if isinstance(name, str):
            if step.get("options"):
                loaded.problems.append(
                    loaded.at(
                        ["steps", index, "options_from"],
                        "E005",
                        "give either `options` or `options_from`, not both",
                    )
                )
            elif name not in lists:
                known = ", ".join(sorted(lists)) or "none"
                loaded.problems.append(
                    loaded.at(
                        ["steps", index, "options_from"],
                        "E006",
                        f"no shared list named {name!r}",
                        f"Lists in services/lists/: {known}.",
                    )
                )
            else:
                step = {**step, "options": lists[name]}
        new_steps.append(step)
    return {**data, "steps": new_steps}


def _is_union_member(part: str | int) -> bool:
    # pydantic names the union member it tried ("str", "dict[...]") inside error paths.
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "list", "dict"} or "[" in part
    )


def _schema_problem(loaded: Loaded, error: Any) -> Problem:
    loc: tuple[str | int, ...] = tuple(p for p in error["loc"] if not _is_union_member(p))
    if any(_is_union_member(p) for p in error["loc"]) and error["type"] != "missing":
        line, col = loaded.locator.find(loc)
        where = ".".join(str(p) for p in loc)
        if "next" in loc:
            return Problem(
                loaded.file,
                line,
                col,
                "E015",
                f"{where}: expected a step id or a list of branches",
                "Write `next: step_id` or `- if: ...` / `goto: ...`.",
            )
        return Problem(
            loaded.file,
            line,
            col,
            "E014",
            f"{where}: expected a text, or one text per language code",
            "Write `Enter your name` or `{en: ..., dz: ...}`.",
        )
    where = ".".join(str(p) for p in loc) or "(top)"
    kind = error["type"]
    if kind == "missing":
        line, col = loaded.locator.find(loc[:-1])
        return Problem(
            loaded.file,
            line,
            col,
            "E010",
            f"{where}: required field is missing",
            f"Add `{loc[-1]}:` here.",
        )
    if kind == "extra_forbidden":
        line, col = loaded.locator.find(loc, key=True)
        return Problem(
            loaded.file,
            line,
            col,
            "E011",
            f"{where}: unknown field",
            "Check its spelling; `gateway schema` lists every field.",
        )
    if kind == "union_tag_invalid":
        line, col = loaded.locator.find((*loc, "type"))
        from dialogs.steps import STEP_TYPES

        return Problem(
            loaded.file,
            line,
            col,
            "E012",
            f"{where}: unknown step type",
            "Step types: " + ", ".join(STEP_TYPES),
        )
    line, col = loaded.locator.find(loc)
    return Problem(
        loaded.file,
        line,
        col,
        "E013",
        f"{where}: {error['msg']}",
        "See docs/authoring.md for the allowed values.",
    )


def parse_list(text: str, file: str) -> tuple[list[Any] | None, list[Problem]]:
    """A shared option list (`services/lists/<name>.yaml`): its options, or problems."""
    data, locator, problems = parse_yaml(text, file)
    options = data.get("options") if isinstance(data, dict) else None
    if problems:
        return None, problems
    if not isinstance(options, list) or not options:
        line, col = locator.find(["options"])
        return None, [
            Problem(
                file,
                line,
                col,
                "E003",
                "a list file needs `options:`",
                "Write `options:` followed by one `- label` per line.",
            )
        ]
    return options, []
