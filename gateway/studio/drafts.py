"""What the studio tells an author about a draft, from the same checker, compiler and
conversation-test runner as `gateway check` and `gateway test`: nothing about the format
is written twice.

A draft arrives as YAML (what is stored: its lines are the author's) or as JSON (written
out as YAML first, in the order given, so the diagnostics point at the stored lines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from dialogs.catalog import Catalog
from dialogs.checker import check
from dialogs.compiler import compile_service
from dialogs.conversation_tests import CaseResult, parse_tests, run_file
from dialogs.loader import Loaded, SharedList, load_text
from dialogs.problems import Problem, Severity

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json"})


class DraftFormatError(ValueError):
    """A body that is neither YAML nor JSON of a definition (said to the author as 415
    or 422)."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    line: int
    column: int
    code: str
    severity: Severity
    message: str
    hint: str
    # Where in the definition (e.g. ("steps", 3, "prompt")) and in which step: the field
    # of the studio's form it is shown at. Empty and None for a problem in a shared list.
    path: tuple[str | int, ...] = ()
    step: str | None = None

    @classmethod
    def of(cls, problem: Problem, loaded: Loaded | None = None) -> Diagnostic:
        path: tuple[str | int, ...] = ()
        if loaded is not None and problem.file == loaded.file:
            path = loaded.locator.path_at(problem.line, problem.col)
        return cls(
            problem.line,
            problem.col,
            problem.code,
            problem.severity,
            problem.message,
            problem.hint,
            path,
            _step_id(loaded, path),
        )


def _step_id(loaded: Loaded | None, path: tuple[str | int, ...]) -> str | None:
    """The id of the step `path` is in, as written (even in a draft that does not load)."""
    if loaded is None or len(path) < 2 or path[0] != "steps" or not isinstance(path[1], int):
        return None
    steps = loaded.raw.get("steps") if isinstance(loaded.raw, dict) else None
    if not isinstance(steps, list) or path[1] >= len(steps) or not isinstance(steps[path[1]], dict):
        return None
    found = steps[path[1]].get("id")
    return found if isinstance(found, str) else None


@dataclass(frozen=True, slots=True)
class Checked:
    """A draft as the checker sees it."""

    loaded: Loaded
    diagnostics: tuple[Diagnostic, ...]

    @property
    def publishable(self) -> bool:
        return self.loaded.definition is not None and not any(
            d.severity == "error" for d in self.diagnostics
        )


def as_yaml(body: bytes, content_type: str) -> str:
    """The draft's text as stored: YAML as sent, or JSON written out as YAML."""
    media = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DraftFormatError("the definition is not UTF-8 text") from exc
    if media in YAML_TYPES:
        return text
    if media in JSON_TYPES:
        try:
            data = json.loads(text)
        except RecursionError as exc:
            raise DraftFormatError("the JSON is nested too deeply") from exc
        except ValueError as exc:
            raise DraftFormatError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise DraftFormatError("a definition is a JSON object")
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    raise DraftFormatError("send the definition as application/yaml or application/json")


def checked(source: str, file: str, lists: dict[str, SharedList]) -> Checked:
    """Every problem `gateway check` would report in the draft."""
    loaded = load_text(source, file, lists)
    problems = list(loaded.problems)
    if loaded.definition is not None:
        problems += check(loaded)
    ordered = sorted(set(problems), key=lambda p: (p.line, p.col, p.code))
    return Checked(loaded, tuple(Diagnostic.of(p, loaded) for p in ordered))


@dataclass(frozen=True, slots=True)
class TestRun:
    """The draft's conversation tests run on it: each case on each of its media, or why
    they could not run."""

    results: tuple[CaseResult, ...]
    problems: tuple[Diagnostic, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems and all(result.passed for result in self.results)


def run_tests(draft: Checked, tests: str, file: str, others: Catalog) -> TestRun:
    """Run `tests` on the draft, the other running services beside it (a test may go
    through the menu)."""
    definition = draft.loaded.definition
    if definition is None or not draft.publishable:
        raise DraftFormatError("the draft has errors: fix them before running its tests")
    parsed, problems = parse_tests(tests, file)
    if parsed is None:
        return TestRun((), tuple(Diagnostic.of(p) for p in problems))
    compiled = compile_service(definition)
    catalog = Catalog.of([s for s in others.menu() if s.id != compiled.id] + [compiled])
    return TestRun(tuple(run_file(catalog, parsed)))
