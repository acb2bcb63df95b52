"""POST /channels/...: every registered adapter behind one handler.

The provider always gets its normal response: a store outage becomes a polite reply from
the conversation service, refusals are 4xx from the adapter, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.background import BackgroundTask, BackgroundTasks

from dialogs.gsm import sms_size
from dialogs.messages import Reply
from dialogs.render import renderer_for
from gateway.channels import CHANNELS, Channel, Received
from gateway.conversations import Conversations, Message
from gateway.settings import Settings
from state.database import LogEntry, MessageLog, now

logger = logging.getLogger(__name__)

PREFIX = "/channels"


def add_channel_routes(app: FastAPI, settings: Settings) -> None:
    """`POST /channels/<path>` for every registered adapter, on the app's own router.

    Not through `include_router`: FastAPI 0.165 keeps an included router as a layer that
    every request walks through, 3% of a USSD hop's instructions (bench/hop_cpu.py).
    """
    for channel in CHANNELS.values():
        app.router.add_api_route(
            PREFIX + channel.path,
            _endpoint(channel, settings),
            methods=["POST"],
            name=channel.name,
            summary=f"{channel.name} webhook",
            tags=["channels"],
            route_class_override=RequestRoute,
        )


class RequestRoute(APIRoute):
    """A route listed in the OpenAPI docs like any other, whose endpoint takes the Request.

    The adapters read and check provider bodies themselves (signatures need the raw
    bytes), so FastAPI's per-request dependency solving had nothing to do but still cost
    about 5% of a USSD hop.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


def _endpoint(channel: Channel, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        received = await channel.receive(request, settings)
        log: MessageLog = request.app.state.messages
        if received.message is None:
            response = channel.respond(received, [])
            response.background = BackgroundTask(record_statuses, log, channel, received)
            return response
        conversations: Conversations = request.app.state.conversations
        outgoing = getattr(channel, "outgoing", None)
        if outgoing is None:
            replies = await conversations.handle(received.message)
            response = channel.respond(received, replies)
            # Recorded after the response is sent: the log never slows a USSD answer.
            response.background = BackgroundTask(
                record_messages, log, channel, received.message, replies, False
            )
            return response
        # The provider takes replies through its API: the worker sends them.
        background = BackgroundTasks()
        for message in (received.message, *received.more):
            replies = await conversations.handle(message)
            if replies:
                one = Received(message, received.context)
                await request.app.state.outbox.send(outgoing(one, replies))
            background.add_task(record_messages, log, channel, message, replies, True)
        response = channel.respond(received, [])
        response.background = background
        return response

    endpoint.__doc__ = (type(channel).__doc__ or channel.name).strip().splitlines()[0]
    return endpoint


async def record_messages(
    log: MessageLog, channel: Channel, message: Message, replies: list[Reply], queued: bool
) -> None:
    """The message in and the replies out, in the message log."""
    at = now()

    def segments(text: str) -> int:
        return sms_size(text).segments if message.channel == "sms" else 0

    rows = [
        LogEntry(
            at=at,
            channel=channel.name,
            direction="in",
            address=message.citizen,
            text=message.text[:4000],
            provider_id=message.message_id,
            status="received",
            segments=segments(message.text),
        )
    ]
    for reply in replies:
        text = renderer_for(message.channel).render(reply).text
        rows.append(
            LogEntry(
                at=at,
                channel=channel.name,
                direction="out",
                address=message.citizen,
                text=text[:4000],
                provider_id=None,
                status="queued" if queued else "sent",
                segments=segments(text),
            )
        )
    try:
        await log.record(rows)
    except Exception:  # the log must never break a conversation
        logger.warning("message log unavailable", exc_info=True)


async def record_statuses(log: MessageLog, channel: Channel, received: Received) -> None:
    """Delivery reports (Twilio status callbacks, WhatsApp statuses) in the message log."""
    context = received.context
    reports = [(context.get("message_id"), context.get("status"), context.get("to"))]
    reports += [
        (f"wa:{s.get('id')}", s.get("status"), "+" + str(s.get("recipient_id", "")))
        for s in context.get("statuses", [])
        if isinstance(s, dict)
    ]
    try:
        for provider_id, status, address in reports:
            if not provider_id or not status:
                continue
            if await log.set_status(str(provider_id), str(status)) == 0:
                await log.record(
                    [
                        LogEntry(
                            at=now(),
                            channel=channel.name,
                            direction="out",
                            address=str(address or ""),
                            text="",
                            provider_id=str(provider_id),
                            status=str(status)[:20],
                            segments=0,
                        )
                    ]
                )
    except Exception:
        logger.warning("message log unavailable", exc_info=True)
