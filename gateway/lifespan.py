"""A gateway process's start and stop: what the app's lifespan connects, in which order, and
how it lets go of it.

On start it connects the session store (`GATEWAY_REDIS_URL`, or an embedded Redis under
`./var` when unset) and runs the sweeper that expires abandoned conversations
(`gateway.background`). Channel webhooks call the conversation service; replies sent
through a provider's API are queued on the outbox (`GATEWAY_QUEUE_URL`, default the
store's Redis). Under embedded defaults (or with `GATEWAY_WORKER_IN_PROCESS=true`) the
worker that sends them runs in this process; otherwise run `gateway worker`. Submissions
go to the database (`gateway.submissions`); a relay queues the notifications they owe
that are still pending. What was built is the app's `Runtime` (`gateway.runtime`).
"""

from __future__ import annotations

import asyncio
import gc
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import partial

import aiohttp
from fastapi import FastAPI

from dialogs.messages import Reply, reply_data
from gateway.background import cancel, relay_forever, stop, sweep_forever
from gateway.catalog.reload import follow_reloads, log_refusals, start_catalog
from gateway.catalog.repository import Repository
from gateway.console.oidc import OidcClient
from gateway.console.opening import console_for
from gateway.conversations.lookups import perform_lookup, registry_session
from gateway.conversations.service import Consented, Conversations
from gateway.conversations.understanding import classifier_for
from gateway.delivery.outbox import Outbox
from gateway.delivery.outgoing import Outgoing
from gateway.delivery.worker import run_in_process
from gateway.demo.registry import DemoCensus, Lookup
from gateway.documents import store_from_settings
from gateway.providers import sender_ready
from gateway.runtime import Runtime
from gateway.security.addresses import Countries
from gateway.security.budget import OutboundBudget
from gateway.security.limiter import Limiter, RateLimit
from gateway.security.verification import CodeVerifier, Deliver
from gateway.settings import Settings, rates
from gateway.submissions.desk import Desk
from gateway.submissions.service import OptedOut, Submissions
from state.accounts import AccountStore
from state.api_keys import ApiKeyStore
from state.audit import AuditLog
from state.connect import connect
from state.consent import ConsentStore
from state.database import Database, MessageLog, database_url
from state.desk import DeskStore
from state.embedded import EmbeddedRedis
from state.events import ArchiveLoop, EventArchive
from state.lists import ListStore
from state.published import ServiceVersions
from state.store import SessionStore, Window
from state.studio import DraftStore
from state.submissions import SubmissionStore

GC_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan_for(settings: Settings, repository: Repository) -> Lifespan:
    """The app's lifespan: the runtime built from `settings` and the services folder as
    read (`repository`), released when the app stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every resource is released even when a later one fails to start (a bad queue
        # URL must not leave the database's connections behind), in reverse order.
        async with AsyncExitStack() as resources:
            app.state.runtime = await start(settings, repository, resources)
            settle_heap()
            yield

    return lifespan


async def start(settings: Settings, repository: Repository, resources: AsyncExitStack) -> Runtime:
    """Connect and start every part; `resources` releases them, in reverse order."""
    url = settings.redis_url or _embedded_redis(settings, resources)
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
    opted_out = _opted_out(store, consents)
    submissions = Submissions(submission_store, settings, outbox.notify, opted_out)
    resources.push_async_callback(submissions.drain)  # before the outbox closes
    # Merged into what the running processes publish, as a reload would merge it (the
    # embedded Redis serves this process alone: its folder goes as it is).
    shared = settings.redis_url is not None
    versions = ServiceVersions(database)
    catalog, report = await start_catalog(client, repository, shared=shared, versions=versions)
    log_refusals(report)
    classifier = classifier_for(settings, catalog, resources)
    desk = Desk(
        DeskStore(database, submission_store),
        submissions,
        store,
        catalog=lambda: conversations.catalog,  # replaced by each reload
    )
    conversations = Conversations(
        catalog,
        store,
        submit=desk.submit,  # a new application, or a returned one corrected
        correction=desk.correction,
        status=submissions.status,
        lookup=_lookup(settings, registries),
        classify=classifier.classify,
        verification=CodeVerifier(
            store, limiter, budget, settings, code_delivery(settings, outbox)
        ),
        windows=windows_of(settings.inbound_per_address),
        countries=Countries.of(settings.allowed_countries),
        consented=_consented(consents, submission_store, outbox),
    )
    in_process = settings.worker_in_process
    if in_process is None:
        in_process = settings.redis_url is None
    tasks = [asyncio.create_task(sweep_forever(conversations, settings.sweep_seconds))]
    # A reload through another process's admin API reaches this one too.
    following = follow_reloads(conversations, settings.services_dir, versions=versions)
    tasks.append(asyncio.create_task(following))
    resources.push_async_callback(cancel, tasks)
    if in_process:  # stopped before the loops above are cancelled, as the relay is
        quitting = asyncio.Event()
        working = asyncio.create_task(run_in_process(settings, queue_url, quitting, url))
        resources.push_async_callback(stop, working, quitting)
    stopping = asyncio.Event()
    relay = asyncio.create_task(
        relay_forever(submission_store, outbox, settings.relay_seconds, stopping)
    )
    resources.push_async_callback(stop, relay, stopping)
    # The analytics API drains the stream before it counts; the archiving loop runs
    # beside the job worker (`gateway worker` in production), off the hops.
    events = EventArchive(client, database)
    if in_process:
        archiving = ArchiveLoop.start(client, database, archive=events)
        resources.push_async_callback(archiving.stop)
    return Runtime(
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
        api_keys=ApiKeyStore(database),
        audit=AuditLog(database),
        desk=desk,
        accounts=AccountStore(database),
        console=console_for(settings, client),
        oidc=_oidc(settings, resources),
        drafts=DraftStore(database),
        versions=versions,
        lists=ListStore(database),
        services_dir=settings.services_dir,
    )


def _oidc(settings: Settings, resources: AsyncExitStack) -> OidcClient | None:
    """The single sign-on client, when GATEWAY_OIDC_* are set: one per process."""
    if not settings.oidc_configured:
        return None
    client = OidcClient.from_settings(settings)
    resources.push_async_callback(client.aclose)
    return client


def _embedded_redis(settings: Settings, resources: AsyncExitStack) -> str:
    """A redis-server of this process's own under `var/` (no `GATEWAY_REDIS_URL`)."""
    embedded = EmbeddedRedis(settings.var_dir / "redis")
    url = embedded.start()
    resources.callback(embedded.stop)
    return url


def _lookup(settings: Settings, registries: aiohttp.ClientSession) -> Lookup:
    """Registry lookups; in development the demo census answers census lookups."""
    lookup: Lookup = partial(perform_lookup, session=registries)
    if settings.development:
        lookup = DemoCensus.shipped().in_front_of(lookup)
    return lookup


def _opted_out(store: SessionStore, consents: ConsentStore) -> OptedOut:
    async def opted_out(address: str) -> bool:
        return await store.opted_out(address) or await consents.opted_out(address)

    return opted_out


def _consented(consents: ConsentStore, submissions: SubmissionStore, outbox: Outbox) -> Consented:
    """STOP and START kept in the database; START sends the links held back meanwhile."""

    async def consented(citizen: str, channel: str, out: bool) -> None:
        await consents.record(citizen, opted_out=out, channel=channel)
        if not out:  # START: the links held back for this number go now
            held = await submissions.release_held(citizen)
            if held:  # a job of their own: their first one may have run (held)
                await outbox.notify(held, attempt=f"start-{secrets.token_hex(4)}")

    return consented


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
