"""The registry of checks: one module per rule, each with `CODES` and `run(loaded)`.

Modules starting with `_` are helpers shared by checks, not checks themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from dialogs.checks import (
    assurance,
    dead_ends,
    fields,
    gsm_text,
    long_choices,
    number_zero,
    options,
    reachability,
    references,
    sms_segments,
    syntax,
    timeouts,
    translations,
    ussd_screens,
    variables,
)
from dialogs.loader import Loaded
from dialogs.problems import Problem

Check = Callable[[Loaded], list[Problem]]

MODULES = (
    references,
    reachability,
    dead_ends,
    fields,
    variables,
    syntax,
    options,
    translations,
    timeouts,
    ussd_screens,
    gsm_text,
    sms_segments,
    long_choices,
    number_zero,
    assurance,
)

CHECKS: dict[str, Check] = {module.__name__.rsplit(".", 1)[1]: module.run for module in MODULES}
"""Check name (its module) -> the function that runs it."""

CODES: dict[str, str] = {
    code: module.__name__.rsplit(".", 1)[1] for module in MODULES for code in module.CODES
}
"""Problem code -> the check that reports it."""
