"""The registry of checks: one module per rule, each with `CODES` and `run(loaded)`."""

from __future__ import annotations

from collections.abc import Callable

from dialogs.checks import references
from dialogs.loader import Loaded
from dialogs.problems import Problem

Check = Callable[[Loaded], list[Problem]]

_MODULES = (references,)

CHECKS: dict[str, Check] = {module.__name__.rsplit(".", 1)[1]: module.run for module in _MODULES}
"""Check name (its module) -> the function that runs it."""

CODES: dict[str, str] = {
    code: module.__name__.rsplit(".", 1)[1] for module in _MODULES for code in module.CODES
}
"""Problem code -> the check that reports it."""
