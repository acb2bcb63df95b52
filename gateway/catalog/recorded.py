"""The catalog's side in the database (`state.published`): the versions it governs, read
for every merge, and what a start or reload of the folder published, recorded there so
that the database holds every published version (to export, and to roll back to).

A version the database governs is kept as checked JSON and compiled again here, as the
Redis archive's are (`gateway.catalog.versions`): its shared lists are those it was
published with.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dialogs.compiler import CompiledService
from gateway.catalog.changes import DATABASE, ReloadReport
from gateway.catalog.repository import TESTS_SUFFIX, Repository
from gateway.catalog.versions import compile_archived, dump
from state.published import NewVersion, ServiceVersions

logger = logging.getLogger(__name__)

FOLDER_PUBLISHER = "services folder"  # who published a version of the folder's


async def governed_services(versions: ServiceVersions) -> list[CompiledService]:
    """The versions the database governs, compiled. Raises when the database cannot be
    read: a merge without them would withdraw those services."""
    found = []
    for published in await versions.governed():
        compiled = compile_archived(published.service, published.version, published.definition)
        if compiled is not None:
            found.append(compiled)
    return found


async def record_folder(
    versions: ServiceVersions, report: ReloadReport, folder: Repository, *, withdrawals: bool
) -> None:
    """Record in the database what `report` published from `folder`'s files and, with
    `withdrawals` (a reload's, never a start's: a starting process's folder may be older
    than the others'), what it withdrew. Idempotent: every process starting records the
    same versions."""
    files = {item.service_id: item.file for item in folder.loaded}
    for change in report.changes:
        if change.file == DATABASE:
            continue
        if change.outcome == "withdrawn":
            if withdrawals and change.previous is not None:
                await versions.withdraw(change.service, change.previous)
            continue
        if change.outcome not in ("published", "unchanged") or change.version is None:
            continue
        compiled = folder.catalog.get(change.service, change.version)
        file = files.get(change.service)
        if compiled is None or file is None:
            continue  # published earlier, from the archive: recorded when it was
        path = Path(file)
        tests = path.with_name(path.name.removesuffix(".yaml") + TESTS_SUFFIX)
        await versions.record(
            NewVersion(
                service=change.service,
                version=change.version,
                source=path.read_text(encoding="utf-8"),
                tests=tests.read_text(encoding="utf-8") if tests.is_file() else None,
                definition=dump(compiled),
                origin="folder",
                by=FOLDER_PUBLISHER,
            )
        )
