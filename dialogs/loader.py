"""Reads definitions: YAML with source positions, shared lists, schema validation.

Text in, models and problems out: reading files is the caller's job (gateway.catalog.repository).
Positions let every problem point at its line and column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dialogs.definition import ServiceDefinition
from dialogs.problems import Problem
from dialogs.steps import STEP_TYPES
from dialogs.steps.choice import OptionDef
from dialogs.yaml_source import Locator as Locator
from dialogs.yaml_source import parse_yaml as parse_yaml

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
    "E016",  # a shared list used here has errors of its own
)
"""Codes the loader reports for a definition file (E003 belongs to shared list files)."""


_NOWHERE = Locator(None)


@dataclass(frozen=True, slots=True)
class SharedList:
    """A shared option list (`services/lists/<name>.yaml`) and where its lines are.

    A list given without a file (`file == ""`, as tests do) has no lines of its own:
    problems about its options point at the `options_from` that brought them in."""

    options: list[Any]
    file: str = ""
    locator: Locator = _NOWHERE
    broken: bool = False  # it has problems of its own, reported in its file
    title: str = ""  # what people call it ("Dzongkhags of Bhutan"), if its file says


Lists = Mapping[str, list[Any] | SharedList]
"""Shared lists by name: read from their files, or plain options (tests)."""


@dataclass(slots=True)
class Loaded:
    """A definition file: its model when valid, and what is wrong with it."""

    file: str
    definition: ServiceDefinition | None
    locator: Locator
    problems: list[Problem] = field(default_factory=list)
    raw: Any = None
    lists: Mapping[str, SharedList] = field(default_factory=dict)

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
        file, locator, where = self._written_at(path)
        line, col = locator.find(where, key=key)
        return Problem(file, line, col, code, message, hint)

    def options_from_list(self, index: int) -> bool:
        """Whether step `index` takes its options from a shared list (`options_from`)."""
        return self._list_name(index) is not None

    def _list_name(self, index: int) -> str | None:
        steps = self.raw.get("steps") if isinstance(self.raw, dict) else None
        if not isinstance(steps, list) or not 0 <= index < len(steps):
            return None
        step = steps[index]
        if not isinstance(step, dict) or "options" in step:
            return None
        name = step.get("options_from")
        return name if isinstance(name, str) else None

    def _written_at(self, path: Sequence[str | int]) -> tuple[str, Locator, Sequence[str | int]]:
        """The file, its locator and the path there where `path` of the model was written."""
        index = path[1] if len(path) >= 3 and path[0] == "steps" else None
        if not isinstance(index, int) or path[2] != "options":
            return self.file, self.locator, path
        name = self._list_name(index)
        if name is None:
            return self.file, self.locator, path
        shared = self.lists.get(name)
        if shared is not None and shared.file:
            # An option of a shared list is fixed in the list's file, at its own line.
            return shared.file, shared.locator, ("options", *path[3:])
        # Options of a list without a file have no lines: point at `options_from`.
        return self.file, self.locator, ("steps", index, "options_from")


def load_text(text: str, file: str, lists: Lists | None = None) -> Loaded:
    """Validate one definition's YAML text against the format."""
    data, locator, problems = parse_yaml(text, file)
    shared = {
        name: found if isinstance(found, SharedList) else SharedList(found)
        for name, found in (lists or {}).items()
    }
    loaded = Loaded(file, None, locator, problems, data, shared)
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
        data = _with_lists(loaded, data)
    try:
        loaded.definition = ServiceDefinition.model_validate(data)
    except ValidationError as exc:
        loaded.problems += _validation_problems(loaded, exc)
    return loaded


def _validation_problems(
    loaded: Loaded, exc: ValidationError, prefix: PathKey = ()
) -> list[Problem]:
    """pydantic's errors as problems at their lines (`prefix`: where the validated value
    sits in the file)."""
    found: list[Problem] = []
    seen: set[tuple[int, int, str]] = set()
    errors: list[Any] = [{**error, "loc": (*prefix, *error["loc"])} for error in exc.errors()]
    paths = [_path(error["loc"]) for error in errors]
    for error, path in zip(errors, paths, strict=True):
        if _is_union_error(error) and any(
            len(other) > len(path) and other[: len(path)] == path for other in paths
        ):
            continue  # another member of the union explains it more precisely
        problem = _schema_problem(loaded, error)
        if (problem.line, problem.col, problem.code) not in seen:  # one per union branch
            seen.add((problem.line, problem.col, problem.code))
            found.append(problem)
    return found


def _with_lists(loaded: Loaded, data: dict[str, Any]) -> Any:
    steps = data.get("steps")
    if not isinstance(steps, list):
        return data
    lists = loaded.lists
    new_steps = []
    for index, step in enumerate(steps):
        name = step.get("options_from") if isinstance(step, dict) else None
        if isinstance(name, str):
            where: list[str | int] = ["steps", index, "options_from"]
            shared = lists.get(name)
            if step.get("options"):
                loaded.problems.append(
                    loaded.at(where, "E005", "give either `options` or `options_from`, not both")
                )
            elif shared is None:
                known = ", ".join(sorted(lists)) or "none"
                loaded.problems.append(
                    loaded.at(
                        where,
                        "E006",
                        f"no shared list named {name!r}",
                        f"Lists in services/lists/: {known}.",
                    )
                )
            elif shared.broken:
                # Its problems are reported once, in its own file; here only that this
                # service cannot be published until the list is fixed.
                loaded.problems.append(
                    loaded.at(
                        where,
                        "E016",
                        f"the shared list {name!r} has errors, so this step has no options",
                        f"Fix the problems reported in {shared.file or 'the list'}.",
                    )
                )
                step = {**step, "options": []}
            else:
                step = {**step, "options": shared.options}
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


_OPTIONS = TypeAdapter(list[OptionDef])


def read_list(text: str, file: str) -> tuple[SharedList, list[Problem]]:
    """A shared option list (`services/lists/<name>.yaml`) and its own problems, each at its
    line in the list's file: a mistake in a list is fixed there, whichever service uses it."""
    data, locator, problems = parse_yaml(text, file)
    options = data.get("options") if isinstance(data, dict) else None
    if not problems and (not isinstance(options, list) or not options):
        line, col = locator.find(["options"])
        problems.append(
            Problem(
                file,
                line,
                col,
                "E003",
                "a list file needs `options:`",
                "Write `options:` followed by one `- label` per line.",
            )
        )
    if not problems:
        try:
            _OPTIONS.validate_python(options)
        except ValidationError as exc:
            problems += _validation_problems(Loaded(file, None, locator), exc, ("options",))
    valid = options if isinstance(options, list) and not problems else []
    title = data.get("title") if isinstance(data, dict) else None
    named = title if isinstance(title, str) else ""
    return SharedList(valid, file, locator, broken=bool(problems), title=named), problems


def parse_list(text: str, file: str) -> tuple[list[Any] | None, list[Problem]]:
    """A shared option list's options (None when it has problems), and its problems."""
    shared, problems = read_list(text, file)
    return (None if shared.broken else shared.options), problems
