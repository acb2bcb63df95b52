"""Every published service version, kept in Redis so any process can continue it.

A conversation is pinned to the version it started on. A process that was running at a
reload keeps the older version loaded; one that starts later (a new replica, a restart)
loads only what the folder holds now. Without this archive it would restart a pinned
citizen on the new version, silently. So each process records the versions it publishes,
and one that meets a pinned version it lacks compiles it from here.

What is kept is the checked definition as JSON (lists already filled in), which
round-trips exactly through the model. The first process to publish a version wins
(HSETNX): the reload refuses new content under a published number, and a folder that
changed a version's content behind a restart is reported, not allowed to rewrite it.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, compile_service
from dialogs.definition import ServiceDefinition
from state.store import Client, text_of

logger = logging.getLogger(__name__)

VERSIONS_KEY = "gw:services:versions"


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
    if raw is None:
        return None
    try:
        definition = ServiceDefinition.model_validate_json(raw)
        return compile_service(definition)
    except (ValidationError, ValueError):
        # Written by an older release whose format this one no longer reads.
        logger.warning("archived %s version %s cannot be read", service_id, version, exc_info=True)
        return None


def dump(service: CompiledService) -> str:
    return service.definition.model_dump_json(by_alias=True)
