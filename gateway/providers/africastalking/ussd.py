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

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.service import Message
from gateway.providers.base import Received, form_fields, refuse
from gateway.providers.common import (
    Access,
    check_access,
    citizen_number,
    unsigned_access,
    ussd_screen,
)
from gateway.settings import Settings

FIELDS = ("sessionId", "phoneNumber", "serviceCode", "text")
REMEMBER_SECONDS = 24 * 3600  # a USSD session lasts minutes; its hops are not replayed later


class AfricasTalkingUssd:
    name: ClassVar[str] = "ussd/africastalking"
    path: ClassVar[str] = "/ussd/africastalking"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received:
        check_access(request, settings)
        fields = await form_fields(request, FIELDS)
        session, text = fields["sessionId"], fields["text"]
        if not session:
            raise refuse(400, "sessionId must not be empty")
        code = fields["serviceCode"]
        message = Message(
            citizen=citizen_number(fields["phoneNumber"], "phoneNumber"),
            medium=Medium.USSD,
            text=text[:2000],
            message_id=f"at:{session}:{len(text)}:{text[-200:]}",
            session=session,
            service=settings.ussd_codes.get(code),
            accumulated=True,
            remember=REMEMBER_SECONDS,
        )
        return Received(message)

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        text, end = ussd_screen(replies)
        return Response(("END " if end else "CON ") + text, media_type="text/plain")


class AfricasTalkingUssdEvents:
    """The end-of-session notification: acknowledged (nothing to answer)."""

    name: ClassVar[str] = "ussd/africastalking/events"
    path: ClassVar[str] = "/ussd/africastalking/events"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received:
        check_access(request, settings)
        fields = await form_fields(request, ("sessionId", "phoneNumber", "status"))
        return Received(None, {"status": fields["status"], "session": fields["sessionId"]})

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return Response("OK", media_type="text/plain")
