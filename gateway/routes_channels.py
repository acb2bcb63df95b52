"""POST /channels/...: every registered adapter behind one handler.

The provider always gets its normal response: a store outage becomes a polite reply from
the conversation service, refusals are 4xx from the adapter, never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from gateway.channels import CHANNELS, Channel
from gateway.conversations import Conversations
from gateway.settings import Settings


def channel_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/channels", tags=["channels"])
    for channel in CHANNELS.values():
        router.add_api_route(
            channel.path,
            _endpoint(channel, settings),
            methods=["POST"],
            name=channel.name,
            summary=f"{channel.name} webhook",
        )
    return router


def _endpoint(channel: Channel, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        received = await channel.receive(request, settings)
        if received.message is None:
            return channel.respond(received, [])
        conversations: Conversations = request.app.state.conversations
        replies = await conversations.handle(received.message)
        outgoing = getattr(channel, "outgoing", None)
        if outgoing is not None and replies:
            # The provider takes replies through its API: the worker sends them.
            await request.app.state.outbox.send(outgoing(received, replies))
            return channel.respond(received, [])
        return channel.respond(received, replies)

    endpoint.__doc__ = (type(channel).__doc__ or channel.name).strip().splitlines()[0]
    return endpoint
