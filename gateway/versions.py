"""Every published service version, kept in Redis so any process can continue it.

A conversation is pinned to the version it started on. A process that was running at a
reload keeps the older version loaded; one that starts later (a new replica, a restart)
reads only what the folder holds now. Without this archive it would restart a pinned
citizen on the new version, silently. So each process records the versions it publishes,
and one that meets a pinned version it lacks compiles it from here.

Beside it, which version of each service is published (`gw:services:published`): a
process that starts merges its folder into that, as a reload would
(`gateway.reload.start_catalog`), so a definition that fails the checker, changed content
under a published number or a folder older than the published one (a ConfigMap not yet
refreshed on that machine) never replaces what the other processes run.

What is kept is the checked definition as JSON (lists already filled in), which
round-trips exactly through the model. The first process to publish a version wins
(HSETNX): the reload refuses new content under a published number, and a folder that
changed a version's content behind a restart is reported, not allowed to rewrite it.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, compile_service
from dialogs.definition import ServiceDefinition
from state.store import Client, text_of

logger = logging.getLogger(__name__)

VERSIONS_KEY = "gw:services:versions"
PUBLISHED_KEY = "gw:services:published"  # service id -> the version every process offers


def version_field(service_id: str, version: int) -> str:
    return f"{service_id}@{version}"


async def archive_versions(client: Client, catalog: Catalog) -> None:
    """Record every version `catalog` holds. Never raises: a Redis outage only means a
    later process cannot continue these versions (it then starts such citizens afresh)."""
    services = [s for versions in catalog.versions.values() for s in versions.values()]
    if not services:
        return
    fields = [version_field(s.id, s.version) for s in services]
    dumps = [dump(s) for s in services]
    try:
        async with client.pipeline(transaction=False) as pipe:
            for name, text in zip(fields, dumps, strict=True):
                pipe.hsetnx(VERSIONS_KEY, name, text)
            pipe.hmget(VERSIONS_KEY, fields)
            *_, kept = await pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("could not archive service versions (%s): %s", type(exc).__name__, exc)
        return
    for service, text, stored in zip(services, dumps, kept, strict=True):
        if stored is not None and text_of(stored) != text:
            logger.warning(
                "service %s version %s differs from the one published before under that "
                "number; conversations pinned to it continue on the earlier content: "
                "raise the version",
                service.id,
                service.version,
            )


async def restore_version(client: Client, service_id: str, version: int) -> CompiledService | None:
    """The archived version compiled again, or None when it was never archived (or the
    archive cannot be read: the caller then starts the citizen afresh, as before)."""
    try:
        raw = await client.hget(VERSIONS_KEY, version_field(service_id, version))  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        logger.warning("could not read archived service versions: %s", exc)
        return None
    return compile_archived(service_id, version, raw) if raw is not None else None


async def published_catalog(client: Client, folder: Catalog) -> Catalog:
    """What the running processes publish, compiled from the archive, with the archived
    content of every version `folder` names loaded beside it (so a merge sees a number
    published before with other content). A version whose archived content equals the
    folder's is taken from `folder`, not compiled again. Empty when nothing was published
    yet or Redis cannot be read (the folder then goes as it is, as before)."""
    try:
        raw: dict[Any, Any] = await client.hgetall(PUBLISHED_KEY)  # type: ignore[misc]
        published = {text_of(k): int(v) for k, v in raw.items()}
        named = (
            (s.id, s.version) for versions in folder.versions.values() for s in versions.values()
        )
        wanted = sorted({*published.items(), *named})
        fields = [version_field(*pair) for pair in wanted]
        texts = await client.hmget(VERSIONS_KEY, fields) if fields else []  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        logger.warning("could not read the published services; starting on the folder: %s", exc)
        return Catalog()
    catalog = Catalog()
    for (service_id, version), stored in zip(wanted, texts, strict=True):
        if stored is None:
            continue  # never archived (or the archive was lost): the folder decides
        service = folder.get(service_id, version)
        if service is None or dump(service) != text_of(stored):
            service = compile_archived(service_id, version, stored)
        if service is None:
            continue
        if published.get(service_id) == version:
            catalog = catalog.publish(service)
        else:
            catalog = catalog.keep(service)
    return catalog


async def record_published(client: Client, published: dict[str, int], withdrawn: list[str]) -> None:
    """Record what a start or a reload changed in `gw:services:published`. Only the
    changes: a process starting on an older folder while another reloads must not write
    its stale versions over the new ones. Never raises (a later start then merges against
    an older map, which a reload corrects)."""
    if not published and not withdrawn:
        return
    try:
        async with client.pipeline(transaction=False) as pipe:
            if published:
                pipe.hset(PUBLISHED_KEY, mapping=published)
            if withdrawn:
                pipe.hdel(PUBLISHED_KEY, *withdrawn)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("could not record the published services (%s): %s", type(exc).__name__, exc)


def compile_archived(service_id: str, version: int, raw: bytes | str) -> CompiledService | None:
    try:
        definition = ServiceDefinition.model_validate_json(raw)
        return compile_service(definition)
    except (ValidationError, ValueError):
        # Written by an older release whose format this one no longer reads.
        logger.warning("archived %s version %s cannot be read", service_id, version, exc_info=True)
        return None


def dump(service: CompiledService) -> str:
    return service.definition.model_dump_json(by_alias=True)
