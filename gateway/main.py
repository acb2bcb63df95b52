"""The FastAPI application: health, the catalogue of services, the conversation runtime.

On start it connects the session store (`GATEWAY_REDIS_URL`, or an embedded Redis under
`./var` when unset) and runs the sweeper that expires abandoned conversations. Channel
webhooks call `app.state.conversations`; replies sent through a provider's API are queued
on `app.state.outbox` (`GATEWAY_QUEUE_URL`, default the store's Redis). Under embedded
defaults (or with `GATEWAY_WORKER_IN_PROCESS=true`) the worker that sends them runs in
this process; otherwise run `gateway worker`. Submissions go to the database
(`app.state.submissions`); a relay queues the notifications they owe that are still
pending, and `/d/` and `/verify/` serve their documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI, Request

from dialogs.text import localise
from gateway.channels.whatsapp_meta import verification_router
from gateway.conversations import Conversations
from gateway.documents import store_from_settings
from gateway.logs import configure_logging
from gateway.lookups import perform_lookup, registry_session
from gateway.outbox import Outbox
from gateway.reload import follow_reloads, log_refusals, start_catalog
from gateway.repository import folder_digest, load_repository
from gateway.routes_admin import admin_router
from gateway.routes_analytics import analytics_router
from gateway.routes_channels import add_channel_routes
from gateway.routes_chat import chat_router
from gateway.routes_documents import RateLimit, documents_router
from gateway.routes_ops import count_unhandled_exceptions, ops_router
from gateway.settings import Settings
from gateway.submissions import Submissions
from gateway.understanding import classifier_for
from gateway.worker import run_in_process
from state.cancellation import raise_if_cancelled
from state.connect import connect
from state.database import Database, MessageLog, database_url
from state.embedded import EmbeddedRedis
from state.events import ArchiveLoop, EventArchive
from state.store import SessionStore
from state.submissions import SubmissionStore

logger = logging.getLogger(__name__)
GC_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


async def _sweep_forever(conversations: Conversations, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await conversations.sweep()
        except Exception:  # Redis down: try again next time, never crash
            logger.warning("sweep failed; retrying in %s s", every, exc_info=True)
        raise_if_cancelled()  # a cancellation redis-py's wait_for lost (state.cancellation)


async def _relay_forever(
    store: SubmissionStore, outbox: Outbox, every: float, stopping: asyncio.Event
) -> None:
    """Number submissions and queue notifications still waiting a while after their
    submission was stored: the process that stored them may have died in between.
    Queueing is idempotent (one job id per notification): offered twice, sent once."""
    # Stopped by `stopping`, never cancelled: a database call cancelled half-way would
    # leave its connection behind.
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)
        if stopping.is_set():
            return
        try:
            for submission_id in await store.unnumbered(timedelta(seconds=every)):
                await store.number(submission_id)
            pending = await store.pending_notifications(timedelta(seconds=every))
            if pending:
                queued = await outbox.notify([row.id for row in pending])
                if queued:
                    logger.info("relay queued %d pending notifications", queued)
        except Exception:  # database or queue down: next time
            logger.warning("notification relay failed; retrying in %s s", every, exc_info=True)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        # Asked again until it ends: a library may lose a cancellation (Python 3.11's
        # wait_for inside redis-py and arq: state/cancellation.py).
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _stop(task: asyncio.Task[None], stopping: asyncio.Event) -> None:
    """Let a loop finish what it is doing (a database call cancelled half-way would
    leave its connection behind), then wait for it."""
    stopping.set()
    await task


def settle_heap() -> None:
    """Keep the garbage collector off what lives as long as the process.

    The compiled services are a large graph of long-lived objects; each full collection
    walked all of it and stopped every conversation for about 110 ms (the whole p99 of a
    USSD hop under load). Frozen after start-up, they are never scanned again; a higher
    first threshold lets the many short-lived objects of a hop die young in fewer passes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def create_app(settings: Settings | None = None) -> FastAPI:
    # Here, not at import: uvicorn configures its own logging before calling the factory.
    configure_logging()  # JSON lines on stderr, phone and ID numbers masked
    settings = settings or Settings()
    repository = load_repository([settings.services_dir])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every resource is released even when a later one fails to start (a bad queue
        # URL must not leave the database's connections behind), in reverse order.
        async with contextlib.AsyncExitStack() as resources:
            url = settings.redis_url
            if not url:
                embedded = EmbeddedRedis(settings.var_dir / "redis")
                url = embedded.start()
                resources.callback(embedded.stop)
            database = Database(database_url(settings.database_url, settings.var_dir))
            resources.push_async_callback(database.close)
            await database.migrate()
            messages = MessageLog(database)
            messages.start()
            resources.push_async_callback(messages.stop)
            app.state.messages = messages
            registries = registry_session()  # TLS set-up once, connections reused
            resources.push_async_callback(registries.close)
            client = connect(url)
            store = SessionStore(client, hop_client=connect(url, socket_timeout=None))
            resources.push_async_callback(store.close)
            queue_url = settings.queue_url or url
            outbox = Outbox(queue_url, settings.queue_name)
            resources.push_async_callback(outbox.close)
            app.state.outbox = outbox
            submission_store = SubmissionStore(database, settings.document_days)
            app.state.submission_store = submission_store
            submissions = Submissions(submission_store, settings, outbox.notify)
            app.state.submissions = submissions
            app.state.documents = store_from_settings(settings.documents_url, settings.var_dir)
            app.state.rate_limit = RateLimit(client, settings.public_rate_per_minute)
            # Merged into what the running processes publish, as a reload would merge it
            # (the embedded Redis serves this process alone: its folder goes as it is).
            shared = settings.redis_url is not None
            catalog, report = await start_catalog(client, repository, shared=shared)
            log_refusals(report)
            classifier = classifier_for(settings, catalog, resources)
            app.state.classifier = classifier
            conversations = Conversations(
                catalog,
                store,
                submit=submissions.submit,
                status=submissions.status,
                lookup=partial(perform_lookup, session=registries),
                classify=classifier.classify,
            )
            app.state.conversations = conversations
            in_process = settings.worker_in_process
            if in_process is None:
                in_process = settings.redis_url is None
            tasks = [asyncio.create_task(_sweep_forever(conversations, settings.sweep_seconds))]
            # A reload through another process's admin API reaches this one too.
            tasks.append(asyncio.create_task(follow_reloads(conversations, settings.services_dir)))
            if in_process:
                tasks.append(asyncio.create_task(run_in_process(settings, queue_url)))
            resources.push_async_callback(_cancel, tasks)
            stopping = asyncio.Event()
            relay = asyncio.create_task(
                _relay_forever(submission_store, outbox, settings.relay_seconds, stopping)
            )
            resources.push_async_callback(_stop, relay, stopping)
            # The analytics API drains the stream before it counts; the archiving loop
            # runs beside the job worker (`gateway worker` in production), off the hops.
            app.state.events = events = EventArchive(client, database)
            if in_process:
                archiving = ArchiveLoop.start(client, database, archive=events)
                resources.push_async_callback(archiving.stop)
            settle_heap()
            yield

    app = FastAPI(title="Government services gateway", version="0.1.0", lifespan=lifespan)
    add_channel_routes(app, settings)  # first: the routes every hop is matched against
    app.include_router(verification_router(settings))
    app.include_router(admin_router(settings))
    app.include_router(analytics_router(settings))
    app.include_router(chat_router())
    app.include_router(documents_router(settings))
    # Rasa is reported but optional: when it is down the embedded classifier answers, so
    # it must not take every API pod out of service.
    app.include_router(ops_router(optional=("rasa",)))
    count_unhandled_exceptions(app)  # 500s by route template

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/api/v1/services", tags=["services"])
    def services(request: Request) -> list[dict[str, Any]]:
        """Published services with their versions and languages."""
        running = getattr(request.app.state, "conversations", None)  # reloads change it
        catalog = running.catalog if running is not None else repository.catalog
        return [
            {
                "id": s.id,
                "version": s.version,
                "title": localise(s.definition.title, "en"),
                "languages": s.definition.languages,
                "steps": len(s.order),
            }
            for s in catalog.menu()
        ]

    checked = [repository]  # the folder as last read: read again once its files change
    reading = asyncio.Lock()  # one read at a time, however many ask at once

    @app.get("/api/v1/services/problems", tags=["services"])
    async def problems() -> list[dict[str, Any]]:
        """What `gateway check` reports for the services folder as it is now."""
        async with reading:
            try:
                digest = await asyncio.to_thread(folder_digest, [settings.services_dir])
                if digest != checked[0].digest:
                    checked[0] = await asyncio.to_thread(load_repository, [settings.services_dir])
            except OSError:  # files being swapped (a ConfigMap update): as last read
                logger.warning("services folder unreadable; problems as last read", exc_info=True)
        return [p.data() for p in checked[0].problems]

    return app
