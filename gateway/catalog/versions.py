"""Every published service version, kept in Redis so any process can continue it.

A conversation is pinned to the version it started on. A process that was running at a
reload keeps the older version loaded; one that starts later (a new replica, a restart)
reads only what the folder holds now. Without this archive it would restart a pinned
citizen on the new version, silently. So each process records the versions it publishes,
and one that meets a pinned version it lacks compiles it from here.

Beside it, which version of each service is published (`gw:services:published`): a
process that starts merges its folder into that, as a reload would
(`gateway.catalog.reload.start_catalog`), so a definition that fails the checker, changed content
under a published number or a version lower than the published one never replaces what
the other processes run. A published number only ever goes up (a one-key script), so a
process starting on an older folder while another reloads cannot lower it.

What is kept is the checked definition as JSON (lists already filled in), which
round-trips exactly through the model. The first process to publish a version wins
(HSETNX): a reload and a start both refuse new content under a published number. Only a
start that defines the content (nothing published yet, or the embedded Redis of a single
process) writes over it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from redis.exceptions import RedisError

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, compile_service
from dialogs.definition import ServiceDefinition
from state.store import Client, text_of

logger = logging.getLogger(__name__)

VERSIONS_KEY = "gw:services:versions"
PUBLISHED_KEY = "gw:services:published"  # service id -> the version every process offers

# HSET each service's version unless the one recorded is as high already (one key: fine on
# a Redis Cluster). Numbers are never lowered, whoever writes last.
_RAISE = """
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if current == nil or current < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
"""


def version_field(service_id: str, version: int) -> str:
    return f"{service_id}@{version}"


async def archive_versions(client: Client, catalog: Catalog, *, replace: bool = False) -> None:
    """Record every version `catalog` holds; with `replace`, over what was archived under
    the same numbers (a start that defines the content: nothing published yet, or a
    single process on the embedded Redis). Never raises: a Redis outage only means a
    later process cannot continue these versions (it then starts such citizens afresh)."""
    services = [s for versions in catalog.versions.values() for s in versions.values()]
    if not services:
        return
    fields = [version_field(s.id, s.version) for s in services]
    dumps = [dump(s) for s in services]
    try:
        async with client.pipeline(transaction=False) as pipe:
            for name, text in zip(fields, dumps, strict=True):
                if replace:
                    pipe.hset(VERSIONS_KEY, name, text)
                else:
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
    content of the versions `folder` names (`archived_for`). Empty when nothing was
    published yet (a first start, or processes of a release before the map) or Redis
    cannot be read: the folder then goes as it is."""
    try:
        raw: dict[Any, Any] = await client.hgetall(PUBLISHED_KEY)  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        logger.warning("could not read the published services; starting on the folder: %s", exc)
        return Catalog()
    published: dict[str, int] = {}
    for key, value in raw.items():
        try:
            published[text_of(key)] = int(value)
        except ValueError:  # written by hand: the folder decides for that service
            logger.warning("published version of %s is not a number: %r", text_of(key), value)
    if not published:
        return Catalog()
    catalog = Catalog()
    for service in await archived(client, sorted(published.items()), folder):
        catalog = catalog.publish(service)
    return catalog.keep(*await archived_for(client, catalog, folder))


async def archived_for(client: Client, running: Catalog, folder: Catalog) -> list[CompiledService]:
    """The archived content of every version `folder` names that `running` does not hold,
    so that a merge sees a number published before with other content (in a process that
    started later, or that released that version since)."""
    named = [
        (s.id, s.version)
        for versions in folder.versions.values()
        for s in versions.values()
        if running.get(s.id, s.version) is None
    ]
    return await archived(client, named, folder)


async def archived(
    client: Client, wanted: list[tuple[str, int]], folder: Catalog
) -> list[CompiledService]:
    """The archived versions among `wanted` (id, version); one with the folder's content is
    the folder's compiled service, not compiled again. Never raises: what cannot be read
    is left out (the folder then decides)."""
    if not wanted:
        return []
    try:
        fields = [version_field(*pair) for pair in wanted]
        texts = await client.hmget(VERSIONS_KEY, fields)  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        logger.warning("could not read archived service versions: %s", exc)
        return []
    found: list[CompiledService] = []
    for (service_id, version), stored in zip(wanted, texts, strict=True):
        if stored is None:
            continue  # never archived (or the archive was lost)
        service = folder.get(service_id, version)
        if service is None or dump(service) != text_of(stored):
            service = compile_archived(service_id, version, stored)
        if service is not None:
            found.append(service)
    return found


async def record_published(
    client: Client, raised: Mapping[str, int], withdrawn: Sequence[str] = ()
) -> None:
    """Record what a start or a reload published in `gw:services:published`: numbers only
    raised (a process starting on an older folder while another reloads must not lower
    them), and withdrawals (a reload's only). Never raises (a later start then merges
    against an older map, which a reload corrects)."""
    try:
        if raised:
            pairs = [str(part) for item in sorted(raised.items()) for part in item]
            await client.eval(_RAISE, 1, PUBLISHED_KEY, *pairs)  # type: ignore[misc]
        if withdrawn:
            await client.hdel(PUBLISHED_KEY, *withdrawn)  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        logger.warning("could not record the published services (%s): %s", type(exc).__name__, exc)


def compile_archived(service_id: str, version: int, raw: bytes | str) -> CompiledService | None:
    try:
        definition = ServiceDefinition.model_validate_json(raw)
        return compile_service(definition)
    except Exception:
        # Written by an older release whose format this one no longer reads: one entry
        # like that must not stop a process starting, nor a conversation's next step.
        logger.warning("archived %s version %s cannot be read", service_id, version, exc_info=True)
        return None


def dump(service: CompiledService) -> str:
    return service.definition.model_dump_json(by_alias=True)
