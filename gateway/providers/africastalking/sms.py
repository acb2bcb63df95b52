"""SMS through Africa's Talking: the inbound callback and delivery reports.

`POST /channels/sms/africastalking` takes an inbound SMS (form `from`, `to`, `text`,
`date`, `id`, `linkId`): `from` is the citizen, `id` makes a redelivered callback one
effect (`at-sms:<id>`). Africa's Talking takes no reply in the callback's response, so
`outgoing` hands the replies to the worker (sender `sms/africastalking`, the messaging API
of `gateway.providers.africastalking.sender`) and the callback is answered 200.

`POST /channels/sms/africastalking/reports` takes delivery reports (`id`, `status`,
`phoneNumber`, `networkCode`, `failureReason`, `retryCount`): `id` is the `messageId` the
messaging API returned when the gateway sent the message, recorded as `at-sms:<id>`.

Africa's Talking signs nothing: both endpoints are protected as the USSD callbacks are
(`gateway.providers.common.check_access`: the secret `?token=` of `GATEWAY_USSD_TOKEN`
and/or the `GATEWAY_USSD_ALLOWED_IPS` allow-list; with neither, closed unless
GATEWAY_DEVELOPMENT). `from` must be an E.164 number.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from fastapi import Request, Response
from pydantic import Field

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.africastalking.sender import SMS
from gateway.providers.base import ApiWebhook, DeliveryReport, Received, ResponseWebhook
from gateway.providers.common import (
    Access,
    Body,
    Filled,
    check_access,
    citizen_number,
    matching,
    read_form,
    unsigned_access,
)
from gateway.settings import Settings

PREFIX = "at-sms:"
MAX_TEXT = 2000
REMEMBER_SECONDS = 8 * 24 * 3600  # a callback id is never processed twice within 8 days
MessageId = Annotated[
    Filled, matching(r"^[A-Za-z0-9_.:-]{1,100}$", "not an Africa's Talking message id")
]


def provider_id(message_id: str) -> str:
    """How an Africa's Talking message id is written in the message log."""
    return PREFIX + message_id


class InboundSms(Body):
    sender: str = Field(alias="from")
    text: str
    id: MessageId


class Report(Body):
    id: MessageId
    status: Filled
    phone_number: str = Field(default="", alias="phoneNumber")
    failure_reason: str = Field(default="", alias="failureReason")


class AfricasTalkingSms(ApiWebhook[None]):
    """Inbound SMS from Africa's Talking; replies are sent through the messaging API."""

    name: ClassVar[str] = SMS.name
    path: ClassVar[str] = "/sms/africastalking"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        check_access(request, settings)
        sms = await read_form(request, InboundSms)
        message = Message(
            citizen=citizen_number(sms.sender, "from"),
            medium=Medium.SMS,
            text=sms.text[:MAX_TEXT],
            message_id=provider_id(sms.id),
            remember=REMEMBER_SECONDS,
        )
        return Received(context=None, messages=(message,))

    def acknowledge(self, received: Received[None]) -> Response:
        return Response("OK", media_type="text/plain")

    def outgoing(self, message: Message, context: None, replies: list[Reply]) -> Outgoing:
        return Outgoing(
            sender=SMS.name,
            address=message.citizen,
            replies=[Outgoing.encode(reply) for reply in replies],
            key=message.message_id or "",
        )


class AfricasTalkingSmsReports(ResponseWebhook[None]):
    """Delivery reports for SMS sent through Africa's Talking: recorded, acknowledged."""

    name: ClassVar[str] = "sms/africastalking/reports"
    path: ClassVar[str] = "/sms/africastalking/reports"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        check_access(request, settings)
        report = await read_form(request, Report)
        delivery = DeliveryReport(
            provider_id=provider_id(report.id),
            status=report.status,
            recipient=report.phone_number.strip(),
            errors=(report.failure_reason,) if report.failure_reason else (),
        )
        return Received(context=None, reports=(delivery,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        return Response("OK", media_type="text/plain")
