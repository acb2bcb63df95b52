"""What Twilio's SMS and WhatsApp webhooks share (both are Programmable Messaging): the
forms Twilio posts, the citizen's address in them, and the TwiML that carries the replies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Request, Response
from pydantic import Field

# The twilio package ships no type information (no py.typed marker).
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped]

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render import renderer_for
from gateway.providers.common import Body, Filled, Model, matching, parse_form, refuse, with_link
from gateway.providers.common import chunks as split_text
from gateway.providers.twilio.signature import signed_form
from gateway.security.addresses import NotAPhoneNumberError, phone_number
from gateway.settings import Settings

MAX_BODY = 1600  # Twilio refuses longer message bodies (SMS and WhatsApp)
# Twilio signs no time: a captured request replayed later is recognised by its
# MessageSid, remembered this long (Twilio's own retries come within minutes).
REMEMBER_SECONDS = 8 * 24 * 3600
MessageSid = Annotated[Filled, matching(r"^[A-Za-z0-9]{2,64}$", "not a Twilio message SID")]


class InboundMessage(Body):
    """A message a citizen sent (SMS, or WhatsApp with `whatsapp:` addresses)."""

    sender: Filled = Field(alias="From")
    sid: MessageSid = Field(alias="MessageSid")
    body: str = Field(default="", alias="Body")
    button_payload: str = Field(default="", alias="ButtonPayload")  # a quick-reply's


class StatusCallback(Body):
    """What became of a message the gateway sent."""

    sid: MessageSid = Field(alias="MessageSid")
    status: Filled = Field(alias="MessageStatus")
    error_code: str = Field(default="", alias="ErrorCode")
    to: str = Field(default="", alias="To")


async def signed(request: Request, settings: Settings, model: type[Model]) -> Model:
    """The webhook's signed form as `model` (403 before anything else: see
    `gateway.providers.twilio.signature.signed_form`)."""
    return parse_form(model, await signed_form(request, settings))


def phone(address: str, prefix: str = "") -> str:
    """The E.164 number of a Twilio address (`+975...`, or `whatsapp:+975...`); 400 else."""
    if not address.startswith(prefix):
        raise refuse(400, f"expected a {prefix}+E.164 address")
    number = address[len(prefix) :].strip()
    if not number.startswith("+"):
        raise refuse(400, "the address is not an E.164 phone number")
    try:
        return phone_number(number).e164
    except NotAPhoneNumberError as exc:
        raise refuse(400, "the address is not an E.164 phone number") from exc


def chunks(text: str, limit: int = MAX_BODY) -> Iterator[str]:
    """`text` in pieces this provider accepts (see gateway.providers.common.chunks)."""
    return split_text(text, limit)


def twiml(replies: list[Reply], medium: Medium) -> Response:
    """TwiML with one <Message> per reply, rendered for `medium`; `<Response/>` when none."""
    response = MessagingResponse()
    renderer = renderer_for(medium)
    for reply in replies:
        for part in chunks(with_link(renderer.render(reply))):  # a link is written as text
            response.message(part)
    return Response(str(response.to_xml()), media_type="text/xml")
