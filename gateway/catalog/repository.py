"""The services folder (`GATEWAY_SERVICES_DIR`): definitions, shared lists, tests.

This is where files are read; `dialogs` itself only ever sees their text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dialogs.catalog import Catalog
from dialogs.checker import check
from dialogs.checks import FOLDER_CHECKS
from dialogs.compiler import CompiledService, compile_service
from dialogs.loader import Loaded, SharedList, load_text, read_list
from dialogs.problems import Problem, has_errors

LISTS_DIRNAME = "lists"
TESTS_SUFFIX = ".tests.yaml"


def load_lists(directory: Path) -> tuple[dict[str, SharedList], list[Problem]]:
    """Shared option lists from `<services>/lists/*.yaml`, by file name, and their own
    problems (at their lines in the list files; a list with problems is still named, so a
    service using it is told the list is broken rather than that it does not exist)."""
    lists: dict[str, SharedList] = {}
    problems: list[Problem] = []
    if directory.is_dir():
        for path in sorted(directory.glob("*.yaml")):
            lists[path.stem], found = read_list(path.read_text(encoding="utf-8"), str(path))
            problems += found
    return lists, problems


def definition_files(paths: Sequence[Path]) -> list[Path]:
    """Definition files among `paths`: folders are searched; test files are skipped."""
    found: list[Path] = []
    for path in paths:
        candidates = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        found += [p for p in candidates if not p.name.endswith(TESTS_SUFFIX)]
    return found


def test_files(paths: Sequence[Path]) -> list[Path]:
    """Conversation test files (`<service>.tests.yaml`) among `paths`."""
    found: list[Path] = []
    for path in paths:
        candidates = sorted(path.glob("*" + TESTS_SUFFIX)) if path.is_dir() else [path]
        found += [p for p in candidates if p.name.endswith(TESTS_SUFFIX)]
    return found


def folder_digest(paths: Sequence[Path]) -> str:
    """A hash of what a load reads (definitions and shared lists): processes whose folders
    hold the same files agree on it, so one can tell its copy is not up to date yet (a
    mounted ConfigMap reaches each machine a minute or so apart)."""
    digest = hashlib.sha256()
    files = definition_files(paths)
    lists = {path.parent / LISTS_DIRNAME for path in files}
    for path in files + sorted(p for d in lists for p in d.glob("*.yaml")):
        content = path.read_bytes()
        digest.update(f"{path.name}:{len(content)}:".encode())
        digest.update(content)
    return digest.hexdigest()


def load_file(path: Path, lists: dict[str, SharedList] | None = None) -> Loaded:
    """Load one definition with the shared lists of its folder, and check it."""
    if lists is None:
        lists, _ = load_lists(path.parent / LISTS_DIRNAME)  # theirs: reported by the folder
    loaded = load_text(path.read_text(encoding="utf-8"), str(path), lists)
    if loaded.definition is not None:
        loaded.problems += check(loaded)
    return loaded


@dataclass
class Repository:
    """Every definition of a folder, checked; the valid ones compiled into a catalog."""

    loaded: list[Loaded] = field(default_factory=list)
    catalog: Catalog = field(default_factory=Catalog)
    digest: str = ""  # of the files as they were read (`folder_digest`)
    list_problems: list[Problem] = field(default_factory=list)  # the shared lists' own

    @property
    def problems(self) -> list[Problem]:
        """Every problem once: a shared list's option is checked with each service using
        it, and reported at the same line of the list."""
        found = self.list_problems + [p for item in self.loaded for p in item.problems]
        return list(dict.fromkeys(found))

    def service(self, name: str) -> CompiledService | None:
        """A service by id or by file name."""
        found = self.catalog.get(name)
        if found is not None:
            return found
        for item in self.loaded:
            if Path(item.file).stem == name and item.definition is not None:
                return self.catalog.get(item.definition.id)
        return None


def load_repository(paths: Sequence[Path]) -> Repository:
    """Load, check and compile every definition under `paths`, the shared lists of their
    folders, and what holds between files (ids, reference prefixes)."""
    repository = Repository(digest=folder_digest(paths))
    folders: dict[Path, dict[str, SharedList]] = {}
    for path in definition_files(paths):
        lists = folders.get(path.parent)
        if lists is None:
            lists, found = load_lists(path.parent / LISTS_DIRNAME)
            folders[path.parent] = lists
            repository.list_problems += found
        repository.loaded.append(load_file(path, lists))
    # A problem between two files belongs to the file where it is reported, so that file's
    # service is refused on reload while the other one goes on.
    by_file = {item.file: item for item in repository.loaded}
    for run_check in FOLDER_CHECKS.values():
        for problem in run_check(repository.loaded):
            _add(by_file[problem.file], problem)
    compiled = [
        compile_service(item.definition)
        for item in repository.loaded
        if item.definition is not None and not has_errors(item.problems)
    ]
    repository.catalog = Catalog.of(compiled)
    return repository


def _add(loaded: Loaded, problem: Problem) -> None:
    """Add a problem found between files, in line order among the file's own."""
    own = loaded.file
    loaded.problems.append(problem)
    loaded.problems.sort(key=lambda p: (p.file != own, p.line, p.col))
