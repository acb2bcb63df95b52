"""Publishing from the studio: a reviewed draft, or an earlier version again (roll back),
becomes the version every process offers new conversations within seconds.

A publication takes the next number of the service (numbers only go up, whoever
published the last: the folder, the studio, an import), writes it into the definition's
`version:` line, checks it once more, records it in the database and reloads: this
process at once, the others when they see the services generation move (every few
seconds, `gateway.catalog.reload.follow_reloads`). Conversations in flight finish on the
version they started on, as with any reload.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass

from redis.exceptions import RedisError

from dialogs.compiler import compile_service
from dialogs.definition import ServiceDefinition
from gateway.catalog.reload import bump_generation, log_refusals, reload_services
from gateway.catalog.versions import dump
from gateway.runtime import Runtime
from gateway.studio.drafts import checked
from gateway.studio.lists import studio_lists
from state.published import NewVersion, PublishedVersion, VersionTakenError
from state.studio import DraftConflictError

logger = logging.getLogger(__name__)

_VERSION_LINE = re.compile(r"^version:[^\n]*$", re.MULTILINE)
_ID_LINE = re.compile(r"^id:[^\n]*$", re.MULTILINE)


class PublishRefusedError(Exception):
    """Why this cannot be published now (said to the publisher as 409)."""


@dataclass(frozen=True, slots=True)
class Publication:
    """A version published, and whether the other processes were told."""

    version: PublishedVersion
    previous: int | None
    generation: int | None  # None: other processes could not be told (Redis down)


def with_version(source: str, version: int) -> str:
    """`source` with its top-level `version:` set to `version`, every other byte kept (a
    Git repository of exported services then shows that line changed, nothing else)."""
    line = f"version: {version}"
    if _VERSION_LINE.search(source):
        return _VERSION_LINE.sub(line, source, count=1)
    found = _ID_LINE.search(source)
    if found is None:
        return f"{line}\n{source}"
    return source[: found.end()] + "\n" + line + source[found.end() :]


async def next_version(runtime: Runtime, service: str) -> int:
    """One more than any number `service` ran or was recorded under."""
    running = runtime.conversations.catalog.versions.get(service, {})
    return max(await runtime.versions.highest(service), max(running, default=0)) + 1


async def publish_draft(
    runtime: Runtime, service: str, *, by: str, comment: str | None, solo: bool
) -> Publication:
    """Publish the draft sent for review. `solo`: its sender may publish it too.
    LookupError without a draft, PublishRefusedError when it cannot be published."""
    draft = await runtime.drafts.get(service)
    if draft is None:
        raise LookupError(f"no draft of {service}")
    if draft.state != "submitted":
        raise PublishRefusedError("only a draft sent for review can be published")
    if not solo and draft.submitted_by == by:
        raise PublishRefusedError("another person publishes what you sent for review")
    number = await next_version(runtime, service)
    source = with_version(draft.source, number)
    lists = await studio_lists(runtime)
    found = await asyncio.to_thread(checked, source, f"{service}.yaml", lists)
    definition = found.loaded.definition
    if definition is None or not found.publishable:
        raise PublishRefusedError("the draft has errors now (a shared list changed?)")
    compiled = compile_service(definition)
    new = NewVersion(service, number, source, draft.tests, dump(compiled), "studio", by, comment)
    try:
        # The draft, on the revision reviewed, with the version: of two publishers, one.
        return await _published(runtime, new, draft_revision=draft.revision)
    except DraftConflictError as exc:
        raise PublishRefusedError("the draft changed since it was sent for review") from exc
    except VersionTakenError:
        raise PublishRefusedError(f"version {number} was published meanwhile: try again") from None


async def roll_back(
    runtime: Runtime, service: str, version: int, *, by: str, comment: str | None
) -> Publication:
    """Publish version `version` again, as the service's next number."""
    old = await runtime.versions.get(service, version)
    if old is None:
        raise LookupError(f"{service} has no version {version}")
    number = await next_version(runtime, service)
    data = json.loads(old.definition)
    data["version"] = number
    compiled = compile_service(ServiceDefinition.model_validate(data))
    source = with_version(old.source, number)
    new = NewVersion(service, number, source, old.tests, dump(compiled), "rollback", by, comment)
    try:
        return await _published(runtime, new)
    except VersionTakenError:
        raise PublishRefusedError(f"version {number} was published meanwhile: try again") from None


async def _published(
    runtime: Runtime, new: NewVersion, *, draft_revision: int | None = None
) -> Publication:
    """Record `new`, then offer it here and tell the other processes: told even when this
    process could not reload (they, and this one's follower, reload it then)."""
    conversations = runtime.conversations
    previous = conversations.catalog.published.get(new.service)
    recorded = await runtime.versions.publish(new, draft_revision=draft_revision)
    try:
        report = await reload_services(conversations, runtime.services_dir, runtime.versions)
        log_refusals(report)
    except Exception:
        logger.exception("%s published; this process did not reload it yet", new.service)
    generation: int | None = None
    try:  # the folder did not change: the generation alone moves
        generation = await bump_generation(conversations.store.client)
    except (RedisError, OSError):
        logger.warning("%s published here; other processes not told", new.service, exc_info=True)
    return Publication(recorded, previous, generation)
