"""SMS through Twilio Programmable Messaging: form webhooks, TwiML replies.

`POST /channels/sms/twilio` takes an inbound message (`From` in E.164 is the citizen,
`Body` the text, `MessageSid` the provider id that makes redeliveries harmless) and answers
with TwiML, one `<Message>` per reply rendered for SMS (an empty `<Response/>` sends
nothing). `POST /channels/sms/twilio/status` takes status callbacks (`MessageSid`,
`MessageStatus`, `ErrorCode`) for messages sent, SMS or WhatsApp: recorded, answered 204.

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
from gateway.conversations.messages import Message
from gateway.providers.base import DeliveryReport, Received, ResponseWebhook
from gateway.providers.common import Access
from gateway.providers.twilio.messaging import (
    REMEMBER_SECONDS,
    InboundMessage,
    StatusCallback,
    phone,
    signed,
    twiml,
)
from gateway.providers.twilio.signature import access as twilio_access
from gateway.settings import Settings

MAX_TEXT = 2000  # Twilio sends at most 1600 characters
WHATSAPP = "whatsapp:"


class TwilioSms(ResponseWebhook[None]):
    """Inbound SMS from Twilio, answered with TwiML."""

    name: ClassVar[str] = "sms/twilio"
    path: ClassVar[str] = "/sms/twilio"

    def access(self, settings: Settings) -> Access:
        return twilio_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        sms = await signed(request, settings, InboundMessage)
        message = Message(
            citizen=phone(sms.sender),
            medium=Medium.SMS,
            text=sms.body[:MAX_TEXT],
            message_id=f"twilio:{sms.sid}",
            remember=REMEMBER_SECONDS,
        )
        return Received(context=None, messages=(message,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        return twiml(replies, Medium.SMS)


class TwilioStatus(ResponseWebhook[None]):
    """Twilio status callbacks for messages sent (SMS or WhatsApp): recorded."""

    name: ClassVar[str] = "sms/twilio/status"
    path: ClassVar[str] = "/sms/twilio/status"

    def access(self, settings: Settings) -> Access:
        return twilio_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        callback = await signed(request, settings, StatusCallback)
        report = DeliveryReport(
            provider_id=f"twilio:{callback.sid}",
            status=callback.status,
            recipient=callback.to.removeprefix(WHATSAPP),
            errors=(callback.error_code,) if callback.error_code else (),
        )
        return Received(context=None, reports=(report,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        return Response(status_code=204)
