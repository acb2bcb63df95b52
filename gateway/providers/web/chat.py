"""Web chat: `POST /channels/web/messages` with `{"user": id, "text": answer}`.

Returns `{"replies": [{"text", "options": [{"key", "label"}], "link"}], "ended": bool}`.
The page at `/chat` uses it; `user` is a random id the page keeps in the browser.
Anyone may post here (it identifies nobody: a number is proved by a code before anything
is submitted), so requests are limited per client address (`GATEWAY_WEB_PER_CLIENT`).
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.providers.base import Received, ResponseWebhook
from gateway.providers.common import Access, Body, read_json
from gateway.settings import Settings

# A message id is the page's retry of one request: seconds apart, never days.
REMEMBER_SECONDS = 600


class WebMessage(Body):
    model_config = ConfigDict(extra="forbid")  # the page is ours: an unknown field is a bug

    user: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(default="", max_length=2000)
    choice: str | None = Field(default=None, max_length=64)
    id: str | None = Field(default=None, max_length=64, description="Message id (retries).")


class WebChat(ResponseWebhook[None]):
    name: ClassVar[str] = "web"
    path: ClassVar[str] = "/web/messages"

    def access(self, settings: Settings) -> Access:
        return Access.PUBLIC

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        body = await read_json(request, WebMessage, "{'user': id, 'text': answer}")
        message = Message(
            citizen=f"web:{body.user}",
            medium=Medium.WEB,
            text=body.text,
            choice=body.choice,
            message_id=f"web:{body.user}:{body.id}" if body.id else None,
            remember=REMEMBER_SECONDS,
        )
        return Received(context=None, messages=(message,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        return JSONResponse(
            {
                "replies": [
                    {
                        "text": reply.text,
                        "options": [{"key": o.key, "label": o.label} for o in reply.options],
                        "link": reply.link,
                    }
                    for reply in replies
                ],
                "ended": any(reply.end for reply in replies),
            }
        )
