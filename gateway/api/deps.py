"""What a route handler may ask for, as `Annotated` dependencies (FastAPI's documented style).

A handler names the parts it uses in its signature (`store: SubmissionStoreDep`) instead of
reaching into the app; each is read from the app's `Runtime` (`gateway.runtime`) when the
request comes, so a part a test swaps for a fake is the one the next request gets. FastAPI
solves `runtime` once per request however many parts a handler takes.

Before the lifespan has built the runtime (a bare app in tests), `RuntimeDep` and every
part fail with `NotStartedError`; `OptionalRuntimeDep` is None instead, for the routes
that have an answer without it (health, readiness, the services as read at start).

The channel webhooks (`gateway.api.channels`) take the raw request and solve no
dependencies, for speed: they read `Runtime.of(request.app)` themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dialogs.catalog import Catalog
from gateway.conversations.service import Conversations
from gateway.delivery.outbox import Outbox
from gateway.documents.store import DocumentStore
from gateway.runtime import NotStartedError, Runtime
from gateway.security.limiter import RateLimit
from gateway.submissions.desk import Desk
from gateway.submissions.service import Submissions
from state.database import MessageLog
from state.events import EventArchive
from state.submissions import SubmissionStore


async def runtime(request: Request) -> Runtime:
    """The running gateway's parts; NotStartedError before its lifespan ran."""
    return Runtime.of(request.app)


async def optional_runtime(request: Request) -> Runtime | None:
    """The running gateway's parts, or None before its lifespan ran."""
    try:
        return Runtime.of(request.app)
    except NotStartedError:
        return None


RuntimeDep = Annotated[Runtime, Depends(runtime)]
OptionalRuntimeDep = Annotated[Runtime | None, Depends(optional_runtime)]


async def conversations(runtime: RuntimeDep) -> Conversations:
    return runtime.conversations


async def catalog(runtime: RuntimeDep) -> Catalog:
    """The services running now (a reload replaces the catalog, so read per request)."""
    return runtime.conversations.catalog


async def messages(runtime: RuntimeDep) -> MessageLog:
    return runtime.messages


async def submission_store(runtime: RuntimeDep) -> SubmissionStore:
    return runtime.submission_store


async def submissions(runtime: RuntimeDep) -> Submissions:
    return runtime.submissions


async def outbox(runtime: RuntimeDep) -> Outbox:
    return runtime.outbox


async def events(runtime: RuntimeDep) -> EventArchive:
    return runtime.events


async def documents(runtime: RuntimeDep) -> DocumentStore:
    return runtime.documents


async def desk(runtime: RuntimeDep) -> Desk:
    return runtime.desk


async def rate_limit(runtime: RuntimeDep) -> RateLimit:
    return runtime.rate_limit


ConversationsDep = Annotated[Conversations, Depends(conversations)]
CatalogDep = Annotated[Catalog, Depends(catalog)]
MessageLogDep = Annotated[MessageLog, Depends(messages)]
SubmissionStoreDep = Annotated[SubmissionStore, Depends(submission_store)]
SubmissionsDep = Annotated[Submissions, Depends(submissions)]
OutboxDep = Annotated[Outbox, Depends(outbox)]
EventArchiveDep = Annotated[EventArchive, Depends(events)]
DocumentStoreDep = Annotated[DocumentStore, Depends(documents)]
RateLimitDep = Annotated[RateLimit, Depends(rate_limit)]
DeskDep = Annotated[Desk, Depends(desk)]
