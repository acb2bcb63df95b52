"""The FastAPI application: health, the catalogue of services, the conversation runtime.

On start it connects the session store (`GATEWAY_REDIS_URL`, or an embedded Redis under
`./var` when unset) and runs the sweeper that expires abandoned conversations. Channel
webhooks call the conversation service; replies sent through a provider's API are queued
on the outbox (`GATEWAY_QUEUE_URL`, default the store's Redis). Under embedded
defaults (or with `GATEWAY_WORKER_IN_PROCESS=true`) the worker that sends them runs in
this process; otherwise run `gateway worker`. Submissions go to the database
(`gateway.submissions`); a relay queues the notifications they owe that are still
pending, and `/d/` and `/verify/` serve their documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dialogs.messages import Reply, reply_data
from dialogs.text import localise
from gateway.api.admin import admin_router
from gateway.api.analytics import analytics_router
from gateway.api.channels import add_channel_routes
from gateway.api.chat import chat_router
from gateway.api.documents import documents_router
from gateway.api.ops import count_unhandled_exceptions, ops_router
from gateway.catalog.reload import follow_reloads, log_refusals, start_catalog
from gateway.catalog.repository import folder_digest, load_repository
from gateway.conversations.lookups import perform_lookup, registry_session
from gateway.conversations.service import Conversations
from gateway.conversations.understanding import classifier_for
from gateway.delivery.outbox import Outbox
from gateway.delivery.outgoing import Outgoing
from gateway.delivery.worker import run_in_process
from gateway.demo.registry import DemoCensus, Lookup
from gateway.documents import store_from_settings
from gateway.ops.logs import configure_logging
from gateway.providers import WEBHOOKS, sender_ready
from gateway.providers.common import Access
from gateway.providers.meta.whatsapp import verification_router
from gateway.runtime import NotStartedError, Runtime
from gateway.security.addresses import Countries
from gateway.security.admin import admin_auth
from gateway.security.budget import OutboundBudget
from gateway.security.headers import SecurityHeaders
from gateway.security.limiter import Limiter, RateLimit
from gateway.security.verification import CodeVerifier, Deliver
from gateway.settings import Settings, rates
from gateway.submissions.service import Submissions
from state.cancellation import raise_if_cancelled
from state.connect import connect
from state.consent import ConsentStore
from state.database import Database, MessageLog, database_url
from state.embedded import EmbeddedRedis
from state.events import ArchiveLoop, EventArchive
from state.store import SessionStore, Window
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


def announce_access(settings: Settings) -> None:
    """One line per channel adapter: authenticated, public, open (development) or closed;
    and, loudly, every endpoint development mode leaves open."""
    for channel in WEBHOOKS.values():
        access = channel.access(settings)
        log = logger.warning if access in (Access.OPEN, Access.CLOSED) else logger.info
        log("channel %s (POST /channels%s): %s", channel.name, channel.path, access.value)
    if settings.development:
        opened = [
            f"/channels{c.path}" for c in WEBHOOKS.values() if c.access(settings) == Access.OPEN
        ]
        logger.warning(
            "GATEWAY_DEVELOPMENT is on: never expose this gateway. Open without a secret: "
            "%s; verification codes are written in this log when no SMS provider is set; "
            "the demo census answers census lookups",
            ", ".join(opened) or "nothing",
        )


def windows_of(value: str) -> tuple[Window, ...]:
    """`GATEWAY_INBOUND_PER_ADDRESS` as the fixed windows the session store counts."""
    return tuple(Window(item.amount, item.get_expiry()) for item in rates(value))


def code_delivery(settings: Settings, outbox: Outbox) -> Deliver | None:
    """How verification codes leave: queued for the SMS sender; None in development
    without an SMS provider (the code is logged instead)."""
    sender = settings.senders.get("sms", "sms/africastalking")
    if not sender_ready(sender, settings):
        if settings.development:
            return None

        async def nowhere(number: str, reply: Reply) -> None:
            raise RuntimeError(f"no SMS provider: {sender} has no credentials")

        return nowhere

    async def queued(number: str, reply: Reply) -> None:
        await outbox.send(Outgoing(channel=sender, address=number, replies=[reply_data(reply)]))

    return queued


def create_app(settings: Settings | None = None) -> FastAPI:
    # Here, not at import: uvicorn configures its own logging before calling the factory.
    configure_logging()  # JSON lines on stderr, phone and ID numbers masked
    settings = settings or Settings()
    repository = load_repository([settings.services_dir])
    announce_access(settings)

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
            registries = registry_session()  # TLS set-up once, connections reused
            resources.push_async_callback(registries.close)
            client = connect(url)
            store = SessionStore(client, hop_client=connect(url, socket_timeout=None))
            resources.push_async_callback(store.close)
            limiter = Limiter(client, url)
            budget = OutboundBudget(limiter, settings)
            queue_url = settings.queue_url or url
            outbox = Outbox(queue_url, settings.queue_name)
            resources.push_async_callback(outbox.close)
            submission_store = SubmissionStore(database, settings.document_days)
            consents = ConsentStore(database)

            async def opted_out(address: str) -> bool:
                return await store.opted_out(address) or await consents.opted_out(address)

            async def consented(citizen: str, channel: str, out: bool) -> None:
                await consents.record(citizen, opted_out=out, channel=channel)
                if not out:  # START: the links held back for this number go now
                    held = await submission_store.release_held(citizen)
                    if held:  # a job of their own: their first one may have run (held)
                        await outbox.notify(held, attempt=f"start-{secrets.token_hex(4)}")

            submissions = Submissions(submission_store, settings, outbox.notify, opted_out)
            resources.push_async_callback(submissions.drain)  # before the outbox closes
            # Merged into what the running processes publish, as a reload would merge it
            # (the embedded Redis serves this process alone: its folder goes as it is).
            shared = settings.redis_url is not None
            catalog, report = await start_catalog(client, repository, shared=shared)
            log_refusals(report)
            classifier = classifier_for(settings, catalog, resources)
            lookup: Lookup = partial(perform_lookup, session=registries)
            if settings.development:
                lookup = DemoCensus.shipped().in_front_of(lookup)
            verifier = CodeVerifier(
                store, limiter, budget, settings, code_delivery(settings, outbox)
            )
            conversations = Conversations(
                catalog,
                store,
                submit=submissions.submit,
                status=submissions.status,
                lookup=lookup,
                classify=classifier.classify,
                verification=verifier,
                windows=windows_of(settings.inbound_per_address),
                countries=Countries.of(settings.allowed_countries),
                consented=consented,
            )
            in_process = settings.worker_in_process
            if in_process is None:
                in_process = settings.redis_url is None
            tasks = [asyncio.create_task(_sweep_forever(conversations, settings.sweep_seconds))]
            # A reload through another process's admin API reaches this one too.
            tasks.append(asyncio.create_task(follow_reloads(conversations, settings.services_dir)))
            if in_process:
                tasks.append(asyncio.create_task(run_in_process(settings, queue_url, url)))
            resources.push_async_callback(_cancel, tasks)
            stopping = asyncio.Event()
            relay = asyncio.create_task(
                _relay_forever(submission_store, outbox, settings.relay_seconds, stopping)
            )
            resources.push_async_callback(_stop, relay, stopping)
            # The analytics API drains the stream before it counts; the archiving loop
            # runs beside the job worker (`gateway worker` in production), off the hops.
            events = EventArchive(client, database)
            if in_process:
                archiving = ArchiveLoop.start(client, database, archive=events)
                resources.push_async_callback(archiving.stop)
            app.state.runtime = Runtime(
                conversations=conversations,
                outbox=outbox,
                messages=messages,
                limiter=limiter,
                budget=budget,
                rate_limit=RateLimit(limiter, settings.public_rate_per_minute),
                submission_store=submission_store,
                submissions=submissions,
                documents=store_from_settings(settings.documents_url, settings.var_dir),
                classifier=classifier,
                events=events,
            )
            settle_heap()
            yield

    docs_private = "docs" in settings.private_endpoints
    app = FastAPI(
        title="Government services gateway",
        version="0.1.0",
        lifespan=lifespan,
        # Built from the request's Host header, a trailing-slash redirect could send a
        # citizen anywhere: a wrong path is a 404.
        redirect_slashes=False,
        docs_url=None if docs_private else "/docs",
        redoc_url=None if docs_private else "/redoc",
        openapi_url=None if docs_private else "/openapi.json",
    )
    app.add_middleware(SecurityHeaders)
    if settings.trusted_proxies:
        # X-Forwarded-For names the client only when a trusted proxy sent it (the
        # rightmost address not a proxy's); otherwise the peer is the client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    add_channel_routes(app, settings)  # first: the routes every hop is matched against
    app.include_router(verification_router(settings))
    app.include_router(admin_router(settings))
    app.include_router(analytics_router(settings))
    app.include_router(chat_router())
    app.include_router(documents_router(settings))
    # Rasa is reported but optional: when it is down the embedded classifier answers, so
    # it must not take every API pod out of service.
    app.include_router(
        ops_router(
            optional=("rasa",),
            metrics_dependencies=admin_auth(settings)
            if "metrics" in settings.private_endpoints
            else [],
        )
    )
    if docs_private:
        add_private_docs(app, settings)
    count_unhandled_exceptions(app)  # 500s by route template

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/api/v1/services", tags=["services"])
    def services(request: Request) -> list[dict[str, Any]]:
        """Published services with their versions and languages."""
        try:  # the running catalog (reloads change it), else the folder as read at start
            catalog = Runtime.of(request.app).conversations.catalog
        except NotStartedError:
            catalog = repository.catalog
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

    problems_private = admin_auth(settings) if "problems" in settings.private_endpoints else []

    @app.get("/api/v1/services/problems", tags=["services"], dependencies=problems_private)
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


def add_private_docs(app: FastAPI, settings: Settings) -> None:
    """/openapi.json, /docs and /redoc behind the admin token (GATEWAY_PRIVATE_ENDPOINTS)."""
    private = admin_auth(settings)

    @app.get("/openapi.json", include_in_schema=False, dependencies=private)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=private)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)

    @app.get("/redoc", include_in_schema=False, dependencies=private)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=app.title)
