"""The services folder (`GATEWAY_SERVICES_DIR`): definitions, shared lists, tests.

This is where files are read; `dialogs` itself only ever sees their text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogs.catalog import Catalog
from dialogs.checker import check
from dialogs.compiler import CompiledService, compile_service
from dialogs.loader import Loaded, load_text, parse_list
from dialogs.problems import Problem, has_errors

LISTS_DIRNAME = "lists"
TESTS_SUFFIX = ".tests.yaml"


def load_lists(directory: Path) -> tuple[dict[str, list[Any]], list[Problem]]:
    """Shared option lists from `<services>/lists/*.yaml`, by file name."""
    lists: dict[str, list[Any]] = {}
    problems: list[Problem] = []
    if directory.is_dir():
        for path in sorted(directory.glob("*.yaml")):
            options, found = parse_list(path.read_text(encoding="utf-8"), str(path))
            problems += found
            if options is not None:
                lists[path.stem] = options
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


def load_file(path: Path) -> Loaded:
    """Load one definition with the shared lists of its folder, and check it."""
    lists, list_problems = load_lists(path.parent / LISTS_DIRNAME)
    loaded = load_text(path.read_text(encoding="utf-8"), str(path), lists)
    loaded.problems[:0] = list_problems
    if loaded.definition is not None:
        loaded.problems += check(loaded)
    return loaded


@dataclass
class Repository:
    """Every definition of a folder, checked; the valid ones compiled into a catalog."""

    loaded: list[Loaded] = field(default_factory=list)
    catalog: Catalog = field(default_factory=Catalog)
    digest: str = ""  # of the files as they were read (`folder_digest`)

    @property
    def problems(self) -> list[Problem]:
        return [p for item in self.loaded for p in item.problems]

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
    """Load, check and compile every definition under `paths`."""
    repository = Repository(digest=folder_digest(paths))
    compiled: list[CompiledService] = []
    for path in definition_files(paths):
        loaded = load_file(path)
        repository.loaded.append(loaded)
        if loaded.definition is not None and not has_errors(loaded.problems):
            compiled.append(compile_service(loaded.definition))
    repository.catalog = Catalog.of(compiled)
    return repository
