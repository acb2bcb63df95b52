"""POST /channels/...: every registered webhook behind one handler.

The provider always gets its normal response: a store outage becomes a polite reply from
the conversation service, refusals are 4xx from the webhook, never a 500. A webhook says
how its replies go (`Delivery`): in the response, or queued for the provider's API.

Two limits live here, around the conversation: the web chat (open to anyone) is counted
per client address before anything is read, and every reply that costs money (SMS,
WhatsApp) is counted against the outbound budgets before it is sent or queued; a reply
over a budget is held back (recorded in the message log as `held`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask, BackgroundTasks

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.gsm import sms_size
from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render import renderer_for
from dialogs.text import localise
from gateway.compat.fastapi import RequestRoute
from gateway.conversations.messages import Message
from gateway.ops.metrics import count_refused
from gateway.providers import WEBHOOKS
from gateway.providers.base import (
    ApiWebhook,
    Delivery,
    DeliveryReport,
    Received,
    ResponseWebhook,
    Webhook,
)
from gateway.providers.common import Access
from gateway.runtime import Runtime
from gateway.security.budget import OutboundBudget
from gateway.security.limiter import Limiter
from gateway.settings import Settings, rates
from state.database import LogEntry, MessageLog, now

logger = logging.getLogger(__name__)

PREFIX = "/channels"
PAID = frozenset({Medium.SMS, Medium.WHATSAPP})  # replies that cost money: counted against budgets
C = TypeVar("C")


def add_channel_routes(app: FastAPI, settings: Settings) -> None:
    """`POST /channels/<path>` for every registered webhook, on the app's own router.

    Not through `include_router`: FastAPI 0.165 keeps an included router as a layer that
    every request walks through, 3% of a USSD hop's instructions (bench/hop_cpu.py).
    """
    for webhook in WEBHOOKS.values():
        app.router.add_api_route(
            PREFIX + webhook.path,
            _endpoint(webhook, settings),
            methods=["POST"],
            name=webhook.name,
            summary=f"{webhook.name} webhook",
            tags=["channels"],
            route_class_override=RequestRoute,
        )


def _endpoint(webhook: Webhook, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    per_client = rates(settings.web_per_client) if webhook.access(settings) == Access.PUBLIC else []
    limit = webhook.body_limit(settings)

    async def endpoint(request: Request) -> Response:
        refused = _oversized(request, limit)
        if refused is not None:
            return refused
        if per_client:  # anyone may call it: counted per client before anything is read
            refused = await _too_many(request, per_client)
            if refused is not None:
                return refused
        if webhook.delivery is Delivery.API:
            return await _queue(request, webhook, await webhook.receive(request, settings))
        return await _answer(request, webhook, await webhook.receive(request, settings))

    endpoint.__doc__ = (type(webhook).__doc__ or webhook.name).strip().splitlines()[0]
    return endpoint


async def _answer(request: Request, webhook: ResponseWebhook[C], received: Received[C]) -> Response:
    """The replies in the webhook's response."""
    runtime = Runtime.of(request.app)
    message = received.message
    if message is None:
        response = webhook.respond(received, [])
    else:
        replies = await runtime.conversations.handle(message)
        held = await _held(request, message, replies)
        response = webhook.respond(received, [] if held else replies)
        # Recorded after the response is sent: the log never slows a USSD answer.
        status = "held" if held else "sent"
        response.background = BackgroundTask(
            record_messages, runtime.messages, webhook.name, message, replies, status
        )
    if received.reports:
        _after(response, record_reports, runtime.messages, webhook.name, received.reports)
    return response


async def _queue(request: Request, webhook: ApiWebhook[C], received: Received[C]) -> Response:
    """The webhook acknowledged; each message's replies queued for the provider's API,
    where the worker sends them."""
    runtime = Runtime.of(request.app)
    background = BackgroundTasks()
    for message in received.messages:
        replies = await runtime.conversations.handle(message)
        held = await _held(request, message, replies)
        if replies and not held:
            await runtime.outbox.send(webhook.outgoing(message, received.context, replies))
        status = "held" if held else "queued"
        background.add_task(
            record_messages, runtime.messages, webhook.name, message, replies, status
        )
    if received.reports:
        background.add_task(record_reports, runtime.messages, webhook.name, received.reports)
    response = webhook.acknowledge(received)
    response.background = background
    return response


def _after(response: Response, task: Callable[..., Awaitable[None]], *args: Any) -> None:
    """`task` run once `response` is sent, after what already runs then."""
    tasks = BackgroundTasks([response.background] if response.background else [])
    tasks.add_task(task, *args)
    response.background = tasks


def _oversized(request: Request, limit: int) -> Response | None:
    """411 or 413 before a body is read: providers and the chat page declare their
    bodies' length (Content-Length), and one over `limit` is refused unread. A chunked
    body of unknown length cannot be refused before reading it: webhooks never send
    one. Checked here rather than by FastAPI's body limit middleware, whose wrapping of
    every message cost 3% of a USSD hop (bench/hop_cpu.py --callgrind)."""
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) <= limit:
                return None
            return JSONResponse({"detail": "the request body is too large"}, status_code=413)
    return JSONResponse({"detail": "a Content-Length is required"}, status_code=411)


async def _too_many(request: Request, limits: list[Any]) -> Response | None:
    """429 with a polite reply the chat page shows, once a client sends too much."""
    limiter: Limiter = Runtime.of(request.app).limiter
    client = request.client.host if request.client else "unknown"
    verdict = await limiter.hit(limits, "web", client)
    if verdict.allowed:
        return None
    count_refused("web_client")
    text = localise(BUILTIN_TEXTS["too_fast"], "en")
    return JSONResponse(
        {"replies": [{"text": text, "options": [], "link": None}], "ended": False},
        status_code=429,
        headers={"Retry-After": str(verdict.retry_after)},
    )


async def _held(request: Request, message: Message, replies: list[Reply]) -> bool:
    """Whether replies that cost money must be held back: their parts are counted against
    the outbound budgets of the citizen's number first (`gateway.security.budget`)."""
    if not replies or message.medium not in PAID:
        return False
    renderer = renderer_for(message.medium)
    if message.medium is Medium.SMS:
        parts = sum(sms_size(renderer.render(reply).text).segments for reply in replies)
    else:
        parts = len(replies)
    budget: OutboundBudget = Runtime.of(request.app).budget
    return not await budget.spend(message.citizen, parts)


async def record_messages(
    log: MessageLog, webhook: str, message: Message, replies: list[Reply], status: str
) -> None:
    """The message in and the replies out, in the message log."""
    at = now()

    def segments(text: str) -> int:
        return sms_size(text).segments if message.medium is Medium.SMS else 0

    rows = [
        LogEntry(
            at=at,
            channel=webhook,
            direction="in",
            address=message.citizen,
            text=message.text[:4000],
            provider_id=message.message_id,
            status="received",
            segments=segments(message.text),
        )
    ]
    for reply in replies:
        text = renderer_for(message.medium).render(reply).text
        rows.append(
            LogEntry(
                at=at,
                channel=webhook,
                direction="out",
                address=message.citizen,
                text=text[:4000],
                provider_id=None,
                status=status,
                segments=segments(text),
            )
        )
    try:
        await log.record(rows)
    except Exception:  # the log must never break a conversation
        logger.warning("message log unavailable", exc_info=True)


async def record_reports(
    log: MessageLog, webhook: str, reports: tuple[DeliveryReport, ...]
) -> None:
    """Delivery reports (Twilio status callbacks, WhatsApp statuses, Africa's Talking's
    reports) in the message log: the message's row gets the status, or a row is added
    for a message the log does not hold."""
    try:
        for report in reports:
            if not report.provider_id or not report.status:
                continue
            if await log.set_status(report.provider_id, report.status) == 0:
                await log.record(
                    [
                        LogEntry(
                            at=now(),
                            channel=webhook,
                            direction="out",
                            address=report.recipient,
                            text="",
                            provider_id=report.provider_id,
                            status=report.status[:20],
                            segments=0,
                        )
                    ]
                )
    except Exception:
        logger.warning("message log unavailable", exc_info=True)
