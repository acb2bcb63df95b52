"""The conversation tests beside the definitions, read and checked for `gateway check` and
`gateway test` (`dialogs.case_checks` checks their text; files are read here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dialogs.case_checks import Definitions, check_tests
from dialogs.problems import Problem, has_errors
from gateway.catalog.repository import (
    TESTS_SUFFIX,
    Repository,
    definition_files,
    load_repository,
    test_files,
)


def definitions(repository: Repository) -> Definitions:
    """The definitions a tests file may name, by service id (None: unreadable)."""
    return {loaded.service_id: loaded.definition for loaded in repository.loaded}


def refused(repository: Repository) -> set[str]:
    """Services whose definition the checker refuses: not compiled, so not playable."""
    return {loaded.service_id for loaded in repository.loaded if has_errors(loaded.problems)}


def tests_beside(paths: Sequence[Path]) -> list[Path]:
    """Tests files among `paths`, in their folders, and beside the definition files given."""
    found = test_files(paths)
    for path in definition_files([p for p in paths if not p.is_dir()]):
        beside = path.with_name(path.name.removesuffix(path.suffix) + TESTS_SUFFIX)
        if beside.is_file() and beside not in found:
            found.append(beside)
    return found


def check_test_files(paths: Sequence[Path], repository: Repository) -> list[Problem]:
    """Problems of the tests files `gateway check paths` covers, against the definitions
    read (a tests file given alone is checked against the definitions of its folder)."""
    known = dict(definitions(repository))
    alone = {p.parent for p in paths if p.is_file() and p.name.endswith(TESTS_SUFFIX)}
    if alone:
        for service, definition in definitions(load_repository(sorted(alone))).items():
            known.setdefault(service, definition)
    problems: list[Problem] = []
    for path in tests_beside(paths):
        problems += check_tests(path.read_text(encoding="utf-8"), str(path), known)
    return problems
