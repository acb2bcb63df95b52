"""The worker: sends what the outbox queued, retrying with exponential backoff.

Built on arq (a Redis-backed job queue). One job, `deliver`, takes an `Outgoing` and hands
it to the sender it names (`gateway.providers.SENDERS`) with one shared HTTP client. When
the provider fails in a way that can pass (`SendError(retry=True)`: 429, 5xx, network),
the job is retried after 5 s, 20 s, 80 s... (capped) up to `GATEWAY_SEND_MAX_TRIES`; a
refusal (`retry=False`: 4xx) is logged and given up at once.

`gateway worker` runs it alone; under embedded defaults `gateway serve` runs it inside the
server process (`GATEWAY_WORKER_IN_PROCESS` decides either way). Where the worker runs,
the conversation events are archived for the analytics too: background work kept off
the processes that answer citizens.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from typing import Any

from arq import Retry
from arq.worker import func

from gateway.compat.arq import GatewayWorker
from gateway.delivery.context import WorkerContext
from gateway.delivery.notifications import (
    NotifyContext,
    OptedOutError,
    prepare_document,
    send_notification,
)
from gateway.delivery.outgoing import Outgoing, Progress, SendContext, SendError
from gateway.delivery.queue import HEALTH_SECONDS, events_url_for, health_key, redis_settings
from gateway.ops.logs import configure_logging
from gateway.providers import SENDERS
from gateway.settings import Settings
from state.connect import connect
from state.events import ArchiveLoop
from state.submissions import NotificationRow

logger = logging.getLogger(__name__)

DELIVER = "deliver"
NOTIFY = "notify"
RESULT_SECONDS = 24 * 3600  # a finished job's id is remembered: a duplicate key is sent once
MAX_PROVIDER_WAIT = 3600.0  # a Retry-After longer than this is a provider bug
CONTEXT_KEY = "gateway"
ARCHIVE_KEY = "gateway:archive"
# Retries and give-ups, counted in the queue's Redis (a hash: "retry:deliver" -> n) rather
# than in this process: `gateway worker` runs apart from the web processes, and every
# gateway's /metrics reads the same figures from here.
JOB_EVENTS_KEY = "gw:metrics:jobs"


def backoff(tries: int, first: float, cap: float) -> float:
    """Seconds to wait after the `tries`-th failed attempt: first, x4, x16... capped."""
    return float(min(cap, first * 4 ** max(0, tries - 1)))


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """What the job returns (kept with the job id for a day)."""

    sent: bool
    tries: int
    error: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class JobProgress:
    """The parts of a job's `Outgoing` already sent, in the queue's Redis, so that a retry
    (on any worker) resumes after them."""

    redis: Any  # arq's connection
    key: str

    async def sent(self) -> int:
        value = await self.redis.get(self.key)
        return int(value or 0)

    async def mark(self, count: int) -> None:
        await self.redis.set(self.key, count, ex=RESULT_SECONDS)


def job_progress(ctx: dict[str, Any]) -> Progress | None:
    redis, job_id = ctx.get("redis"), ctx.get("job_id")
    return JobProgress(redis, f"gw:sent:{job_id}") if redis is not None and job_id else None


def _send_context(ctx: dict[str, Any]) -> SendContext:
    """The worker's context, with this job's progress when the queue can keep it."""
    context: SendContext = ctx[CONTEXT_KEY].send
    progress = job_progress(ctx)
    return dataclasses.replace(context, progress=progress) if progress is not None else context


async def count_job_event(ctx: dict[str, Any], event: str, job: str) -> None:
    """One more `event` ("retry", "gave_up") of `job` in the queue's Redis, for /metrics.
    A figure lost when Redis is away matters less than the job: never raises."""
    redis = ctx.get("redis")
    if redis is None:
        return
    try:
        await redis.hincrby(JOB_EVENTS_KEY, f"{event}:{job}", 1)
    except Exception:
        logger.debug("could not count a %s of %s", event, job, exc_info=True)


async def _retry_later(
    ctx: dict[str, Any], job: str, exc: SendError, tries: int, settings: Settings, what: str
) -> Retry | None:
    """arq's Retry for a failure worth another try (None: give up), logged and counted
    either way."""
    limit = settings.send_max_tries
    if exc.retry and tries < limit:
        delay = backoff(tries, settings.send_retry_seconds, settings.send_retry_max_seconds)
        delay = max(delay, min(exc.after, MAX_PROVIDER_WAIT))  # the provider's Retry-After
        logger.warning(
            "%s failed (try %d/%d): %s; retrying in %.1f s", what, tries, limit, exc, delay
        )
        await count_job_event(ctx, "retry", job)
        return Retry(defer=delay)
    logger.error("%s failed (try %d/%d): %s; giving up", what, tries, limit, exc)
    await count_job_event(ctx, "gave_up", job)
    return None


async def deliver(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The job: send one `Outgoing` with the sender it names."""
    context = _send_context(ctx)
    tries: int = ctx.get("job_try", 1)
    outgoing = Outgoing.from_job(payload)  # jobs queued by the previous release too
    sender = SENDERS.get(outgoing.sender)
    if sender is None:
        logger.error("no sender named %r; dropping %s", outgoing.sender, ctx.get("job_id"))
        await count_job_event(ctx, "gave_up", DELIVER)
        return dataclasses.asdict(Delivery(False, tries, f"no sender for {outgoing.sender}"))
    try:
        await sender.send(outgoing, context)
    except SendError as exc:
        retry = await _retry_later(
            ctx, DELIVER, exc, tries, context.settings, f"{outgoing.sender} send"
        )
        if retry is not None:
            raise retry from exc
        return dataclasses.asdict(Delivery(False, tries, str(exc)))
    return dataclasses.asdict(Delivery(True, tries))


async def notify(ctx: dict[str, Any], notification_id: int) -> dict[str, Any]:
    """The job: send one stored notification (a citizen's message, a webhook call) and
    record the attempt; a notification sent already is not sent again. Anything but a
    provider's answer (the database or the document store away) is tried again later with
    the same backoff: the notification stays pending until it is sent."""
    tries: int = ctx.get("job_try", 1)
    try:
        return await _notify(ctx, notification_id, tries)
    except Retry:
        raise
    except Exception as exc:
        settings: Settings = ctx[CONTEXT_KEY].send.settings
        delay = backoff(tries, settings.send_retry_seconds, settings.send_retry_max_seconds)
        logger.warning(
            "notification %d: %s (try %d); retrying in %.1f s",
            notification_id,
            type(exc).__name__,
            tries,
            delay,
            exc_info=True,
        )
        await count_job_event(ctx, "retry", NOTIFY)
        raise Retry(defer=delay) from exc


async def _notify(ctx: dict[str, Any], notification_id: int, tries: int) -> dict[str, Any]:
    deps: WorkerContext = ctx[CONTEXT_KEY]
    notification = await deps.submissions.notification(notification_id)
    if notification is None:
        return dataclasses.asdict(Delivery(False, tries, "no such notification"))
    context = NotifyContext(
        _send_context(ctx), deps.submissions, deps.documents, deps.renderer, deps.recipients
    )
    if notification.status != "pending":  # sent by an earlier try that died afterwards
        await _prepare(notification, context, deps.drawing)
        return dataclasses.asdict(Delivery(False, tries, "not pending"))
    what = f"notification {notification_id} ({notification.kind} {notification.channel})"
    try:
        await send_notification(notification, context)
    except OptedOutError:
        logger.info("notification %d held: its number opted out", notification_id)
        return dataclasses.asdict(Delivery(False, tries, "held: opted out"))
    except SendError as exc:
        retry = await _retry_later(ctx, NOTIFY, exc, tries, deps.send.settings, what)
        await deps.submissions.record_attempt(
            notification_id, sent=False, error=str(exc), final=retry is None
        )
        if retry is not None:
            raise retry from exc
        return dataclasses.asdict(Delivery(False, tries, str(exc)))
    # Sent: recorded even if the database is away for a moment (a retry would find the
    # message's parts already accepted, and send nothing twice).
    await deps.submissions.record_attempt(notification_id, sent=True)
    await _prepare(notification, context, deps.drawing)
    return dataclasses.asdict(Delivery(True, tries))


async def _prepare(
    notification: NotificationRow, context: NotifyContext, drawing: asyncio.Semaphore
) -> None:
    """Draw the document ahead of the first click, when a core is free for it. Under a
    load of more PDFs than the cores can draw, jobs waiting to draw would hold every job
    slot and the next citizens' links would wait: those documents are left to
    `GET /d/{token}`, which draws on demand."""
    if drawing.locked():
        logger.info("document of notification %d left to its first click", notification.id)
        return
    async with drawing:
        try:
            await prepare_document(notification, context)
        except Exception:  # the link works anyway: GET /d/{token} draws the document itself
            logger.warning(
                "document of notification %d not prepared", notification.id, exc_info=True
            )


class _RedactTokens(logging.Filter):
    """httpx logs each request URL; Telegram's carries the bot token (`/bot<token>/`)."""

    pattern = re.compile(r"/bot[^/\s]+/")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                self.pattern.sub("/bot***/", str(a)) if "/bot" in str(a) else a for a in args
            )
        return True


_redactor = _RedactTokens()


def _protect_logs() -> None:
    http_logger = logging.getLogger("httpx2")
    if _redactor not in http_logger.filters:
        http_logger.addFilter(_redactor)


def build_worker(
    settings: Settings,
    queue_url: str,
    *,
    burst: bool = False,
    handle_signals: bool = False,
    events_url: str | None = None,
    session_url: str | None = None,
) -> GatewayWorker:
    """An arq worker for the outbox queue at `queue_url`; with `events_url` (the session
    store's Redis) it also archives the conversation events for the analytics. The
    session store's Redis (`session_url`, default `events_url`) tells opt-outs and keeps
    the outbound budgets."""
    _protect_logs()

    async def startup(ctx: dict[str, Any]) -> None:
        context = await WorkerContext.open(settings, session_url or events_url)
        ctx[CONTEXT_KEY] = context
        if events_url is not None:
            ctx[ARCHIVE_KEY] = ArchiveLoop.start(connect(events_url), context.database)

    async def shutdown(ctx: dict[str, Any]) -> None:
        archiving: ArchiveLoop | None = ctx.pop(ARCHIVE_KEY, None)
        if archiving is not None:
            await archiving.stop()
            await archiving.client.aclose()
        context: WorkerContext | None = ctx.pop(CONTEXT_KEY, None)
        if context is not None:
            await context.close()

    return GatewayWorker(
        functions=[
            func(deliver, name=DELIVER, max_tries=settings.send_max_tries + 1),
            func(notify, name=NOTIFY, max_tries=settings.send_max_tries + 1),
        ],
        queue_name=settings.queue_name,
        redis_settings=redis_settings(queue_url),
        burst=burst,
        handle_signals=handle_signals,
        on_startup=startup,
        on_shutdown=shutdown,
        poll_delay=settings.worker_poll_seconds,
        keep_result=RESULT_SECONDS,
        max_tries=settings.send_max_tries + 1,
        job_timeout=settings.job_timeout_seconds,
        max_jobs=settings.worker_jobs,
        health_check_interval=HEALTH_SECONDS,
        health_check_key=health_key(settings.queue_name),
    )


async def run_in_process(
    settings: Settings,
    queue_url: str,
    stopping: asyncio.Event,
    session_url: str | None = None,
    restart_seconds: float = 5.0,
) -> None:
    """Run the worker until `stopping` is set; if it fails (Redis unreachable), start it
    again later. Stopped, never cancelled: a cancellation repeated while a job or a poll
    is inside a Redis pipeline leaves the pipeline holding its connection, and one that
    cut `GatewayWorker.close` short would skip its drain."""
    while not stopping.is_set():
        worker = build_worker(settings, queue_url, session_url=session_url)
        running = asyncio.create_task(worker.async_run())
        asked = asyncio.create_task(stopping.wait())
        await asyncio.wait({running, asked}, return_when=asyncio.FIRST_COMPLETED)
        asked.cancel()
        try:
            await worker.close()  # the jobs drained, then the poll and the pool stopped
        except Exception:
            logger.warning("the outbox worker did not close cleanly", exc_info=True)
        (ended,) = await asyncio.gather(running, return_exceptions=True)
        if stopping.is_set():
            return
        logger.warning("the outbox worker stopped; restarting", exc_info=_error(ended))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), restart_seconds)


def _error(outcome: object) -> BaseException | None:
    return outcome if isinstance(outcome, BaseException) else None


def run_forever(settings: Settings, queue_url: str, *, burst: bool = False) -> int:
    """`gateway worker`: run in the foreground until SIGINT/SIGTERM (or the queue is empty
    with `burst`); returns how many jobs failed."""
    configure_logging()  # the worker's own process: JSON lines, numbers masked
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        worker = build_worker(
            settings,
            queue_url,
            burst=burst,
            handle_signals=True,
            events_url=events_url_for(settings),
        )
        worker.run()
        return worker.jobs_failed
    finally:
        asyncio.set_event_loop(None)
        loop.close()
