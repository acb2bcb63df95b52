"""Publishing `services/` without a restart, the same way in every process.

`reload_services` reads the folder again and merges it into the running catalog, one
definition at a time:

- a definition with checker errors never replaces the running version (reported);
- a new version number is published; the older versions stay loaded, so conversations
  pinned to them go on (the engine resumes a snapshot on its own version);
- the same version number with other content is refused ("raise the version"): two
  processes, or a process and a restart, would otherwise run different services under
  one number, and a pinned conversation could change under the citizen; a version lower
  than the published one is refused too (roll back by publishing the old content as a
  new version);
- a service whose file is gone is withdrawn: no longer on the menu nor startable, while
  its versions stay loaded for the conversations in flight (released later by the
  sweeper like any unpublished version). This is what a restart would do, so processes
  that reload and processes that restart agree. Nothing is withdrawn while a file of the
  folder cannot be read at all: its service id is then unknown, and a typo must not take
  a service off the air.

The embedded intent classifier is trained again on the new catalog and swapped in.

Several processes converge through Redis: the admin reload increments
`gw:services:generation`, and `follow_reloads`, running in every API process, polls it
and reloads when it moves. A counter rather than pub/sub: a process that was restarting
or had lost Redis at the moment of the notice still sees that the number moved; reloading
is idempotent, so a redundant reload changes nothing. The digest of the folder that was
published goes with it: a process whose own copy differs (a mounted ConfigMap reaches
each machine up to a minute or two apart) waits for its files to catch up rather than
reloading the old ones and taking the generation as seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.problems import has_errors
from gateway.catalog.changes import DATABASE, ReloadReport, ServiceChange
from gateway.catalog.recorded import governed_services, record_folder
from gateway.catalog.repository import Repository, folder_digest, load_repository
from gateway.catalog.versions import (
    archive_versions,
    archived_for,
    published_catalog,
    record_published,
)
from gateway.conversations.service import Conversations
from gateway.conversations.understanding import embedded_for, swap_embedded
from state.cancellation import raise_if_cancelled
from state.published import ServiceVersions
from state.store import Client, text_of

logger = logging.getLogger(__name__)

GENERATION_KEY = "gw:services:generation"
DIGEST_KEY = "gw:services:digest"  # of the folder the last reload published
FOLLOW_SECONDS = 3.0  # how often a process looks whether another one reloaded
# How long a process waits for its folder to match the published one before reloading
# what it has (with a warning): kubelet refreshes mounted ConfigMaps within ~2 minutes.
LAG_SECONDS = 300.0


def merge(
    running: Catalog, folder: Repository, governed: Sequence[CompiledService] = ()
) -> tuple[Catalog, ReloadReport]:
    """The catalog to run once `folder` and the versions the database governs (`governed`:
    published from the studio, imported or rolled back) are merged into `running`, and
    what changed. Pure.

    Of a service both hold, the higher version wins: a studio publication takes a
    service over from its file until the file's version is raised past it."""
    catalog = running
    report = ReloadReport()
    seen: set[str] = set()
    unreadable = False
    database = {service.id: service for service in governed}
    for loaded in folder.loaded:
        definition = loaded.definition
        service_id = loaded.service_id
        unreadable |= definition is None
        seen.add(service_id)
        previous = running.published.get(service_id)
        compiled = folder.catalog.get(service_id) if definition is not None else None
        owner = database.get(service_id)
        if owner is not None:
            if compiled is None or compiled.version <= owner.version:
                continue  # the database's version governs it (judged below)
            del database[service_id]  # the file's version was raised past it
        if compiled is None or has_errors(loaded.problems):
            errors = tuple(p for p in loaded.problems if p.severity == "error")
            reason = (
                f"checker errors; version {previous} goes on"
                if previous is not None
                else "checker errors; not published"
            )
            report.changes.append(
                ServiceChange(
                    service_id, "refused", previous, previous, loaded.file, reason, errors
                )
            )
            continue
        catalog, change = _judged(running, catalog, compiled, loaded.file)
        report.changes.append(change)
    for service in database.values():
        seen.add(service.id)
        catalog, change = _judged(running, catalog, service, DATABASE)
        report.changes.append(change)
    for service_id, previous in sorted(running.published.items()):
        if service_id in seen:
            continue
        if unreadable:
            reason = "not in the folder; kept while a file of the folder cannot be read"
            report.changes.append(ServiceChange(service_id, "kept", previous, previous, "", reason))
            continue
        published = {k: v for k, v in catalog.published.items() if k != service_id}
        catalog = replace(catalog, published=published)
        reason = "not in the folder; conversations in flight go on"
        report.changes.append(ServiceChange(service_id, "withdrawn", None, previous, "", reason))
    return catalog, report


def _judged(
    running: Catalog, catalog: Catalog, compiled: CompiledService, file: str
) -> tuple[Catalog, ServiceChange]:
    """`catalog` with `compiled` published when it may be, and what became of it."""
    service_id, version = compiled.id, compiled.version
    previous = running.published.get(service_id)
    loaded_already = running.get(service_id, version)
    if loaded_already is not None and loaded_already.definition != compiled.definition:
        reason = f"version {version} already runs with other content: raise the version"
    elif previous is not None and version < previous:
        reason = (
            f"version {version} is older than the published {previous}: "
            "publish the old content as a new version to roll back"
        )
    else:
        reason = ""
    if reason:
        return catalog, ServiceChange(service_id, "refused", previous, previous, file, reason)
    if previous == version:
        return catalog, ServiceChange(service_id, "unchanged", version, previous, file, "")
    # The compiled service already loaded is kept when the content is the same (a
    # withdrawn service published again): conversations share one object.
    catalog = catalog.publish(loaded_already or compiled)
    return catalog, ServiceChange(service_id, "published", version, previous, file, "")


async def reload_services(
    conversations: Conversations, services_dir: Path, versions: ServiceVersions | None = None
) -> ReloadReport:
    """Merge the folder and the versions the database governs (`versions`; none without
    a database) into the running catalog of `conversations`, and retrain the embedded
    classifier. Never raises for a bad definition: it is reported and the running version
    goes on. Raises when the database cannot be read (nothing is then changed)."""
    # Reading and compiling takes about 0.3 s: in a thread, so hops are not held up.
    folder = await asyncio.to_thread(load_repository, [services_dir])
    governed = await governed_services(versions) if versions is not None else []
    client = conversations.store.client
    # What was published before under the folder's numbers, where this process does not
    # hold it (released since, or never loaded): judged as a process starting now would.
    known = await archived_for(client, conversations.catalog, folder.catalog)
    catalog, report = merge(conversations.catalog.keep(*known), folder, governed)
    report.digest = folder.digest
    if not report.changed:
        return report
    embedded = await asyncio.to_thread(embedded_for, catalog)
    # Merged again against the catalog as it is now, with no await until it is in place:
    # the sweeper (or a concurrent reload) may have changed it while the threads ran.
    latest, report = merge(conversations.catalog.keep(*known), folder, governed)
    report.digest = folder.digest
    if latest.published != catalog.published:
        embedded = embedded_for(latest)  # rare: trained again on what is published now
    conversations.catalog = latest
    conversations.classify = swap_embedded(conversations.classify, embedded)
    await publish(client, latest, report, withdrawals=True)
    if versions is not None:
        await record_folder(versions, report, folder, withdrawals=True)
    for change in report.changes:
        if change.outcome in ("published", "withdrawn"):
            logger.info(
                "service %s %s: version %s (was %s)",
                change.service,
                change.outcome,
                change.version,
                change.previous,
            )
    return report


async def start_catalog(
    client: Client,
    folder: Repository,
    *,
    shared: bool = True,
    versions: ServiceVersions | None = None,
) -> tuple[Catalog, ReloadReport]:
    """The catalog a starting process runs: its folder merged into what the running
    processes publish, exactly as a reload merges it. A new replica or a restart then
    agrees with the processes that were running: a broken definition, changed content
    under a published number, or a version lower than the published one leaves the
    published version running, from the archive. A start never withdraws a service for
    the others (only a reload does): its folder may be older than theirs.

    With nothing published yet (a first start, a release before the map, Redis
    unreadable), or not `shared` (the embedded Redis: one process, nobody to agree with),
    the folder goes as it is and its content becomes the archived one."""
    running = await published_catalog(client, folder.catalog) if shared else Catalog()
    governed = await governed_services(versions) if versions is not None else []
    catalog, report = merge(running, folder, governed)
    report.digest = folder.digest
    await publish(client, catalog, report, replace=not running.published)
    if versions is not None:
        # A fresh install imports its folder; a start never withdraws (see above).
        await record_folder(versions, report, folder, withdrawals=False)
    return catalog, report


async def publish(
    client: Client,
    catalog: Catalog,
    report: ReloadReport,
    *,
    withdrawals: bool = False,
    replace: bool = False,
) -> None:
    """Archive the versions `catalog` holds, then record what `report` published (and,
    with `withdrawals`, withdrew) in the published map: in that order, so a reader of the
    map finds the version archived."""
    await archive_versions(client, catalog, replace=replace)
    raised = {
        c.service: c.version
        for c in report.changes
        if c.outcome == "published" and c.version is not None
    }
    withdrawn = [c.service for c in report.changes if c.outcome == "withdrawn"]
    await record_published(client, raised, withdrawn if withdrawals else ())


def log_refusals(report: ReloadReport) -> None:
    for change in report.refused:
        logger.warning(
            "service %s: the folder's definition not applied: %s", change.service, change.reason
        )


async def announce(conversations: Conversations, digest: str) -> int:
    """Tell every process to reload the folder whose digest is `digest`: the new
    generation number."""
    # The digest first: whoever sees the new number sees a digest at least as new. Not a
    # transaction: both keys are then free to live on different Redis Cluster nodes.
    async with conversations.store.client.pipeline(transaction=False) as pipe:
        pipe.set(DIGEST_KEY, digest)
        pipe.incr(GENERATION_KEY)
        _, current = await pipe.execute()
    return int(current)


async def bump_generation(client: Client) -> int:
    """Tell every process to reload when the database changed and the folder did not
    (`gateway import`): the folder's digest stays the one published."""
    return int(await client.incr(GENERATION_KEY))


async def published(conversations: Conversations) -> tuple[int, str]:
    """The generation and the digest of the folder it published ("" before any)."""
    # Two GETs in a pipeline rather than MGET: on a Redis Cluster the keys' slots differ.
    async with conversations.store.client.pipeline(transaction=False) as pipe:
        pipe.get(GENERATION_KEY)
        pipe.get(DIGEST_KEY)
        raw, digest = await pipe.execute()
    return int(raw or 0), text_of(digest) if digest is not None else ""


async def follow_reloads(
    conversations: Conversations,
    services_dir: Path,
    every: float = FOLLOW_SECONDS,
    *,
    reloaded: Callable[[ReloadReport], None] | None = None,
    lag_seconds: float = LAG_SECONDS,
    versions: ServiceVersions | None = None,
) -> None:
    """Reload whenever `gw:services:generation` moves; run until cancelled.

    The first look reloads when any generation was announced: this process loaded the
    folder at start, and a reload announced while it started would otherwise be missed
    (when nothing changed, the reload changes nothing). While this process's folder
    differs from the published one it waits, up to `lag_seconds`.
    """
    seen: int | None = None
    waiting: tuple[int, float] | None = None  # (generation, since when)
    loop = asyncio.get_running_loop()
    while True:
        raise_if_cancelled()  # a cancellation redis-py's wait_for lost (state.cancellation)
        try:
            current, digest = await published(conversations)
            if current != seen and (seen is not None or current > 0):
                local = await asyncio.to_thread(folder_digest, [services_dir])
                if digest and local != digest:
                    if waiting is None or waiting[0] != current:
                        waiting = (current, loop.time())
                        logger.info("services generation %s: waiting for this folder", current)
                    if loop.time() - waiting[1] < lag_seconds:
                        await asyncio.sleep(every)
                        continue
                    logger.warning(
                        "services folder still differs from the one published %.0f s later; "
                        "reloading it as it is",
                        lag_seconds,
                    )
                waiting = None
                report = await reload_services(conversations, services_dir, versions)
                report.generation = current
                log_refusals(report)
                if reloaded is not None:
                    reloaded(report)
            seen = current
        except (RedisError, OSError):  # Redis down: look again next time
            logger.warning("could not read the services generation; retrying", exc_info=True)
        except Exception:  # a reload must never end the loop: the next look tries again
            logger.exception("reloading services failed")
        await asyncio.sleep(every)
