"""Runs every registered check over a loaded definition and returns its problems.

Checks live one per module in `dialogs/checks/`, each registered under its codes, so a new
rule is one small file. The checker never raises on a broken definition: it reports.
"""

from __future__ import annotations

from dialogs.checks import CHECKS
from dialogs.loader import Loaded
from dialogs.problems import Problem


def check(loaded: Loaded) -> list[Problem]:
    """Problems of a definition that passed the schema (empty when it is fine)."""
    if loaded.definition is None:
        return []
    problems: list[Problem] = []
    for run_check in CHECKS.values():
        problems += run_check(loaded)
    return sorted(set(problems), key=lambda p: (p.line, p.col, p.code))
