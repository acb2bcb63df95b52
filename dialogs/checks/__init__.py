"""The registry of checks: one module per rule, each with `CODES` and `run(loaded)`.

Modules starting with `_` are helpers shared by checks, not checks themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dialogs.checks import (
    acceptance,
    acknowledgement,
    assurance,
    between_files,
    conditions,
    cycles,
    dead_ends,
    default_language,
    document_link,
    fields,
    gsm_text,
    long_choices,
    number_zero,
    options,
    reachability,
    references,
    result_fields,
    secrets,
    sms_segments,
    syntax,
    texts_keys,
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
    cycles,
    acceptance,
    fields,
    variables,
    result_fields,
    document_link,
    texts_keys,
    syntax,
    conditions,
    options,
    translations,
    timeouts,
    ussd_screens,
    default_language,
    gsm_text,
    secrets,
    sms_segments,
    long_choices,
    number_zero,
    assurance,
    acknowledgement,
)

CHECKS: dict[str, Check] = {module.__name__.rsplit(".", 1)[1]: module.run for module in MODULES}
"""Check name (its module) -> the function that runs it."""

CODES: dict[str, str] = {
    code: module.__name__.rsplit(".", 1)[1] for module in MODULES for code in module.CODES
}
"""Problem code -> the check that reports it."""

FolderCheck = Callable[[Sequence[Loaded]], list[Problem]]

FOLDER_MODULES = (between_files,)
"""Checks of what holds between the definitions of a folder (`run_folder(loaded)`), run by
`gateway.catalog.repository.load_repository`; each problem is reported in one file."""

FOLDER_CHECKS: dict[str, FolderCheck] = {
    module.__name__.rsplit(".", 1)[1]: module.run_folder for module in FOLDER_MODULES
}

FOLDER_CODES: dict[str, str] = {
    code: module.__name__.rsplit(".", 1)[1] for module in FOLDER_MODULES for code in module.CODES
}
"""Problem code -> the folder check that reports it."""
