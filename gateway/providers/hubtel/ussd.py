"""USSD through Hubtel (Ghana): JSON in, JSON out; a second aggregator proves the contract.

Request: `Type` (Initiation / Response / Release), `Message`, `ServiceCode`, `Mobile`,
`SessionId`, `Sequence`, `ClientState`. Reply: `Type` Response (continue) or Release (end),
`Message`, `ClientState`. On Initiation, `Message` is the dialled code, not an answer.
Hubtel gives no signature: the same token and allow-list as other USSD callbacks apply.
`Mobile` (digits with the country code, or E.164) must be a phone number: it is the citizen.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.providers.base import Received, ResponseWebhook
from gateway.providers.common import (
    Access,
    Body,
    check_access,
    citizen_number,
    read_json,
    unsigned_access,
    ussd_screen,
)
from gateway.settings import Settings

REMEMBER_SECONDS = 600  # a session lasts at most minutes, and a hop is retried within it


class HubtelRequest(Body):
    type: str = Field(alias="Type")
    message: str = Field(default="", alias="Message", max_length=2000)
    service_code: str = Field(default="", alias="ServiceCode")
    mobile: str = Field(alias="Mobile", min_length=1, max_length=20)
    session_id: str = Field(alias="SessionId", min_length=1, max_length=100)
    sequence: int = Field(default=0, alias="Sequence", ge=0, lt=2**31)


class HubtelUssd(ResponseWebhook[None]):
    name: ClassVar[str] = "ussd/hubtel"
    path: ClassVar[str] = "/ussd/hubtel"

    def access(self, settings: Settings) -> Access:
        return unsigned_access(settings)

    async def receive(self, request: Request, settings: Settings) -> Received[None]:
        check_access(request, settings)
        hop = await read_json(request, HubtelRequest, "a Hubtel USSD request")
        if hop.type == "Release":
            return Received(context=None)
        initiation = hop.type == "Initiation"
        message = Message(
            citizen=citizen_number(hop.mobile, "Mobile"),
            medium=Medium.USSD,
            text="" if initiation else hop.message,
            message_id=f"hubtel:{hop.session_id}:{hop.sequence}",
            session=hop.session_id,
            service=settings.ussd_codes.get(hop.service_code),
            remember=REMEMBER_SECONDS,
        )
        return Received(context=None, messages=(message,))

    def respond(self, received: Received[None], replies: list[Reply]) -> Response:
        if received.message is None:
            return JSONResponse({"Type": "Release", "Message": "", "ClientState": ""})
        text, end = ussd_screen(replies)
        return JSONResponse(
            {"Type": "Release" if end else "Response", "Message": text, "ClientState": ""}
        )
