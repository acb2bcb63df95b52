"""SMS through Twilio Programmable Messaging: form webhooks, TwiML replies.

`POST /channels/sms/twilio` takes an inbound message (`From` in E.164 is the citizen,
`Body` the text, `MessageSid` the provider id that makes redeliveries harmless) and answers
with TwiML, one `<Message>` per reply rendered for SMS (an empty `<Response/>` sends
nothing). `POST /channels/sms/twilio/status` acknowledges status callbacks (`MessageSid`,
`MessageStatus`, `ErrorCode`) with 204.

Both check `X-Twilio-Signature` with `GATEWAY_TWILIO_AUTH_TOKEN` against the public URL
(`GATEWAY_PUBLIC_URL` + path + query string), over every parameter received: a missing or
wrong signature is refused with 403 before anything is processed. When no auth token is
configured every request is refused with 403: unsigned Twilio webhooks are never accepted.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import Request, Response

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.service import Message
from gateway.providers.base import Received
from gateway.providers.common import Access
from gateway.providers.twilio.signature import (
    REMEMBER_SECONDS,
    fields,
    message_sid,
    phone,
    signed_form,
    twiml,
)
from gateway.providers.twilio.signature import access as twilio_access
from gateway.settings import Settings

MAX_TEXT = 2000  # Twilio sends at most 1600 characters


class TwilioSms:
    """Inbound SMS from Twilio, answered with TwiML."""

    name: ClassVar[str] = "sms/twilio"
    path: ClassVar[str] = "/sms/twilio"

    def access(self, settings: Settings) -> Access:
        return twilio_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received:
        values = fields(await signed_form(request, settings), ("From", "MessageSid"))
        sid = message_sid(values)
        message = Message(
            citizen=phone(values["From"]),
            medium=Medium.SMS,
            text=values.get("Body", "")[:MAX_TEXT],
            message_id=f"twilio:{sid}",
            remember=REMEMBER_SECONDS,
        )
        return Received(message, {"to": values.get("To", "")})

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return twiml(replies, Medium.SMS)


class TwilioStatus:
    """Twilio status callbacks for messages sent (SMS or WhatsApp): acknowledged."""

    name: ClassVar[str] = "sms/twilio/status"
    path: ClassVar[str] = "/sms/twilio/status"

    def access(self, settings: Settings) -> Access:
        return twilio_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received:
        values = fields(await signed_form(request, settings), ("MessageSid", "MessageStatus"))
        to = values.get("To", "")
        return Received(
            None,
            {
                "provider": "twilio",
                "channel": "whatsapp" if to.startswith("whatsapp:") else "sms",
                "message_id": f"twilio:{message_sid(values)}",
                "status": values["MessageStatus"],
                "error_code": values.get("ErrorCode") or None,
                "to": to.removeprefix("whatsapp:"),
            },
        )

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return Response(status_code=204)
