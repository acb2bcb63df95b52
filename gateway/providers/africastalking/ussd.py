"""USSD through Africa's Talking: form callbacks, `CON ...` / `END ...` text replies.

`text` holds every answer of the session joined by "*"; the conversation service keeps
the previous text to find the newest answer. Africa's Talking signs nothing, so the
endpoint takes a secret `?token=` (`GATEWAY_USSD_TOKEN`) and/or an IP allow-list
(`GATEWAY_USSD_ALLOWED_IPS`); with neither it is closed (403) unless GATEWAY_DEVELOPMENT.
`phoneNumber` must be an E.164 number: it is the citizen.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import Request, Response
from pydantic import Field

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.providers.base import Received, ResponseWebhook
from gateway.providers.common import (
    Access,
    Body,
    Filled,
    check_access,
    citizen_number,
    read_form,
    unsigned_access,
    ussd_screen,
)
from gateway.settings import Settings

# A whole USSD session lasts at most 180 s (docs: Kenyan networks), and a hop is retried
# within it: its reply is kept 10 minutes, not the days a webhook is redelivered for.
REMEMBER_SECONDS = 600
MAX_TEXT = 2000


class UssdCallback(Body):
    """A hop of a USSD session, as Africa's Talking posts it."""

    session_id: Filled = Field(alias="sessionId")
    phone_number: str = Field(alias="phoneNumber")
    service_code: str = Field(alias="serviceCode")
    text: str  # the session's answers so far, joined by "*"


class SessionEnd(Body):
    """The notification that a session ended (`status`: Success, Incomplete, Failed)."""

    session_id: str = Field(alias="sessionId")
    phone_number: str = Field(alias="phoneNumber")
    status: str


class AfricasTalkingUssd(ResponseWebhook[None]):
    name: ClassVar[str] = "ussd/africastalking"
    path: ClassVar[str] = "/ussd/africastalking"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        check_access(request, settings)
        hop = await read_form(request, UssdCallback)
        session, text = hop.session_id, hop.text
        message = Message(
            citizen=citizen_number(hop.phone_number, "phoneNumber"),
            medium=Medium.USSD,
            text=text[:MAX_TEXT],
            message_id=f"at:{session}:{len(text)}:{text[-200:]}",
            session=session,
            service=settings.ussd_codes.get(hop.service_code),
            accumulated=True,
            remember=REMEMBER_SECONDS,
        )
        return Received(context=None, messages=(message,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        text, end = ussd_screen(replies)
        return Response(("END " if end else "CON ") + text, media_type="text/plain")


class AfricasTalkingUssdEvents(ResponseWebhook[None]):
    """The end-of-session notification: acknowledged (nothing to answer)."""

    name: ClassVar[str] = "ussd/africastalking/events"
    path: ClassVar[str] = "/ussd/africastalking/events"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        check_access(request, settings)
        await read_form(request, SessionEnd)
        return Received(context=None)

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        return Response("OK", media_type="text/plain")
