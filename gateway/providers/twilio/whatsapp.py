"""WhatsApp through Twilio: the Programmable Messaging webhook with `whatsapp:` addresses.

`POST /channels/whatsapp/twilio`: `From` is `whatsapp:+E164` (the citizen is the number
without the prefix, so a conversation started on USSD or SMS continues here), `Body` the
text, `ButtonPayload` (a quick-reply button of a Content template) the option chosen,
`MessageSid` the provider id. Replies are TwiML, one `<Message>` per reply with the
WhatsApp renderer's numbered text.

The signature is checked exactly as for SMS (see `gateway.providers.twilio.sms`): 403 for a
missing or wrong `X-Twilio-Signature`, and for every request when no auth token is set.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import Request, Response

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.providers.base import Received, ResponseWebhook
from gateway.providers.common import Access
from gateway.providers.twilio.messaging import (
    REMEMBER_SECONDS,
    InboundMessage,
    phone,
    signed,
    twiml,
)
from gateway.providers.twilio.signature import access as twilio_access
from gateway.settings import Settings

PREFIX = "whatsapp:"
MAX_TEXT = 2000
MAX_CHOICE = 256  # WhatsApp button ids are at most 256 characters


class TwilioWhatsApp(ResponseWebhook[None]):
    """Inbound WhatsApp messages through Twilio, answered with TwiML."""

    name: ClassVar[str] = "whatsapp/twilio"
    path: ClassVar[str] = "/whatsapp/twilio"

    def access(self, settings: Settings) -> Access:
        return twilio_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        inbound = await signed(request, settings, InboundMessage)
        payload = inbound.button_payload.strip()
        message = Message(
            citizen=phone(inbound.sender, PREFIX),
            medium=Medium.WHATSAPP,
            text=inbound.body[:MAX_TEXT],
            choice=payload[:MAX_CHOICE] or None,
            message_id=f"twilio:{inbound.sid}",
            remember=REMEMBER_SECONDS,
        )
        return Received(context=None, messages=(message,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        # Free-form WhatsApp messages sent through Twilio cannot carry interactive reply
        # buttons or lists: those need pre-approved Content templates (ContentSid). So the
        # WhatsApp renderer's plain numbered text is sent, and the citizen answers with a
        # number or the option's words; a template's quick-reply comes back as
        # ButtonPayload, which `receive` turns into the choice.
        return twiml(replies, Medium.WHATSAPP)
