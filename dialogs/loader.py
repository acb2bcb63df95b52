"""Reads definitions: YAML with source positions, shared lists, schema validation.

Text in, models and problems out: reading files is the caller's job (gateway.catalog.repository).
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
from dialogs.steps import STEP_TYPES

PathKey = tuple[str | int, ...]

CODES = (
    "E001",  # YAML syntax
    "E002",  # duplicate key
    "E004",  # empty file
    "E005",  # both options and options_from
    "E006",  # unknown shared list
    "E010",  # required field missing
    "E011",  # unknown field
    "E012",  # unknown step type
    "E013",  # invalid value
    "E014",  # not a text
    "E015",  # not a step id nor a list of branches
)
"""Codes the loader reports for a definition file (E003 belongs to shared list files)."""


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

    @property
    def service_id(self) -> str:
        """The definition's id; for a file that could not be read, its name without the
        extension (the naming convention), so that it is still reported by service."""
        if self.definition is not None:
            return self.definition.id
        name = self.file.replace("\\", "/").rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0] if "." in name[1:] else name

    def at(
        self,
        path: Sequence[str | int],
        code: str,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
    ) -> Problem:
        line, col = self.locator.find(self._written_at(path), key=key)
        return Problem(self.file, line, col, code, message, hint)

    def options_from_list(self, index: int) -> bool:
        """Whether step `index` takes its options from a shared list (`options_from`)."""
        steps = self.raw.get("steps") if isinstance(self.raw, dict) else None
        if not isinstance(steps, list) or not 0 <= index < len(steps):
            return False
        step = steps[index]
        return isinstance(step, dict) and "options" not in step and "options_from" in step

    def _written_at(self, path: Sequence[str | int]) -> Sequence[str | int]:
        # Options copied in from a shared list have no lines of their own in this file:
        # point at the `options_from` that brought them in.
        index = path[1] if len(path) >= 3 and path[0] == "steps" else None
        if isinstance(index, int) and path[2] == "options" and self.options_from_list(index):
            return ("steps", index, "options_from")
        return path


def parse_yaml(text: str, file: str) -> tuple[Any, Locator, list[Problem]]:
    """YAML text -> (data, locator, problems); duplicate keys are problems, not overwrites."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return None, Locator(None), [_syntax_problem(exc, file)]
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


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    problem = exc.problem or str(exc)
    mark = exc.problem_mark or exc.context_mark
    hint = "Check indentation and quotes around this line."
    unclosed = "end of stream" in problem or "<stream end>" in problem
    if unclosed and exc.context_mark is not None:
        # The file ended inside a quote or bracket: where it opened is what needs fixing,
        # not the last line of the file.
        mark = exc.context_mark
        hint = "A quote or bracket opened here is never closed."
    message = f"YAML syntax: {problem}" + (f" {exc.context}" if exc.context else "")
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, col, "E001", message, hint)


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
        errors = exc.errors()
        paths = [_path(error["loc"]) for error in errors]
        for error, path in zip(errors, paths, strict=True):
            if _is_union_error(error) and any(
                len(other) > len(path) and other[: len(path)] == path for other in paths
            ):
                continue  # another member of the union explains it more precisely
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
    return isinstance(part, str) and (part in _UNION_MEMBERS or "[" in part)


_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "list", "dict", "constrained-str"})


def _where(loc: Sequence[str | int]) -> str:
    """`steps.0.prompt`: the path as written, without the step type pydantic inserts."""
    parts = [
        p
        for i, p in enumerate(loc)
        if not (i == 2 and loc[0] == "steps" and isinstance(loc[1], int) and p in STEP_TYPES)
    ]
    return ".".join(str(p) for p in parts)


def _path(loc: Sequence[str | int]) -> PathKey:
    return tuple(p for p in loc if not _is_union_member(p))


def _is_union_error(error: Any) -> bool:
    # The value matched no member of a union (`next`, a text) as a whole; an error deeper
    # inside one member (a branch's `goto`) is reported like any other field.
    loc = error["loc"]
    return bool(loc) and _is_union_member(loc[-1]) and error["type"] != "missing"


def _schema_problem(loaded: Loaded, error: Any) -> Problem:
    loc = _path(error["loc"])
    if _is_union_error(error):
        line, col = loaded.locator.find(loc)
        where = _where(loc)
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
    where = _where(loc) or "(top)"
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
