"""SMS through Africa's Talking: the inbound callback and delivery reports.

`POST /channels/sms/africastalking` takes an inbound SMS (form `from`, `to`, `text`,
`date`, `id`, `linkId`): `from` is the citizen, `id` makes a redelivered callback one
effect (`at-sms:<id>`). Africa's Talking takes no reply in the callback's response, so
`outgoing` hands the replies to the worker (channel `sms/africastalking`, sent through the
messaging API by `gateway.providers.africastalking.sender`) and the callback is answered 200.

`POST /channels/sms/africastalking/reports` takes delivery reports (`id`, `status`,
`phoneNumber`, `networkCode`, `failureReason`, `retryCount`): `id` is the `messageId` the
messaging API returned when the gateway sent the message, recorded as `at-sms:<id>`.

Africa's Talking signs nothing: both endpoints are protected as the USSD callbacks are
(`gateway.providers.common.check_access`: the secret `?token=` of `GATEWAY_USSD_TOKEN`
and/or the `GATEWAY_USSD_ALLOWED_IPS` allow-list; with neither, closed unless
GATEWAY_DEVELOPMENT). `from` must be an E.164 number.
"""

from __future__ import annotations

import re
from typing import ClassVar

from fastapi import Request, Response

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.service import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.base import Received, form_fields, refuse
from gateway.providers.common import Access, check_access, citizen_number, unsigned_access
from gateway.settings import Settings

CHANNEL = "sms/africastalking"
PREFIX = "at-sms:"
MAX_TEXT = 2000
REMEMBER_SECONDS = 8 * 24 * 3600  # a callback id is never processed twice within 8 days
ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def provider_id(message_id: str) -> str:
    """How an Africa's Talking message id is written in the message log."""
    return PREFIX + message_id


def _id(value: str, name: str) -> str:
    value = value.strip()
    if not ID.match(value):
        raise refuse(400, f"{name} is not an Africa's Talking message id")
    return value


class AfricasTalkingSms:
    """Inbound SMS from Africa's Talking; replies are sent through the messaging API."""

    name: ClassVar[str] = CHANNEL
    path: ClassVar[str] = "/sms/africastalking"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received:
        check_access(request, settings)
        fields = await form_fields(request, ("from", "text", "id"))
        sender = citizen_number(fields["from"], "from")
        key = provider_id(_id(fields["id"], "id"))
        message = Message(
            citizen=sender,
            medium=Medium.SMS,
            text=fields["text"][:MAX_TEXT],
            message_id=key,
            remember=REMEMBER_SECONDS,
        )
        context = {"key": key, "to": fields.get("to", ""), "link_id": fields.get("linkId", "")}
        return Received(message, context)

    def outgoing(self, received: Received, replies: list[Reply]) -> Outgoing:
        assert received.message is not None
        return Outgoing(
            channel=CHANNEL,
            address=received.message.citizen,
            replies=[Outgoing.encode(reply) for reply in replies],
            key=received.context["key"],
        )

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return Response("OK", media_type="text/plain")


class AfricasTalkingSmsReports:
    """Delivery reports for SMS sent through Africa's Talking: recorded, acknowledged."""

    name: ClassVar[str] = "sms/africastalking/reports"
    path: ClassVar[str] = "/sms/africastalking/reports"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received:
        check_access(request, settings)
        fields = await form_fields(request, ("id", "status"))
        status = fields["status"].strip()
        if not status:
            raise refuse(400, "status must not be empty")
        return Received(
            None,
            {
                "provider": "africastalking",
                "channel": "sms",
                "message_id": provider_id(_id(fields["id"], "id")),
                "status": status,
                "to": fields.get("phoneNumber", "").strip(),
                "network_code": fields.get("networkCode", ""),
                "failure_reason": fields.get("failureReason") or None,
                "retry_count": fields.get("retryCount", ""),
            },
        )

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return Response("OK", media_type="text/plain")
