"""Sends SMS through Africa's Talking's messaging API (`sms/africastalking`).

Each reply, rendered for SMS (a link is written in the text), becomes
`POST {at_sms_url}` with headers `apiKey: {at_api_key}` and `Accept: application/json`
and the form `username`, `to`, `message` (and `from` when `GATEWAY_AT_SENDER_ID` is set).
Texts longer than `MAX_TEXT` are sent as several messages, cut at line ends.

The answer's `SMSMessageData.Recipients[]` says what became of the message: status codes
100 (Processed), 101 (Sent) and 102 (Queued) are a success, and the recipient's
`messageId` is the provider id delivery reports name (`at-sms:<messageId>` in the message
log). HTTP 429 and 5xx, recipient codes 5xx (Africa's Talking or gateway errors) and
network failures are worth a retry; other answers (a wrong API key, InvalidPhoneNumber,
UserInBlacklist, InsufficientBalance...) are not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx2 as httpx
from pydantic import BaseModel, Field, ValidationError

from dialogs.media import Medium
from gateway.delivery.outgoing import (
    Outgoing,
    SendContext,
    Sender,
    SendError,
    retry_after,
    send_in_order,
)
from gateway.providers.common import chunks as split_text
from gateway.providers.common import plain_texts
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

MAX_TEXT = 918  # six concatenated GSM-7 parts
SUCCESS = frozenset({100, 101, 102})


def chunks(text: str, limit: int = MAX_TEXT) -> Iterator[str]:
    """`text` in pieces this provider accepts (see gateway.providers.common.chunks)."""
    return split_text(text, limit)


def texts(outgoing: Outgoing) -> Iterator[str]:
    """The SMS texts of an `Outgoing`, in sending order."""
    return plain_texts(outgoing, Medium.SMS, MAX_TEXT)


async def send_sms(context: SendContext, to: str, message: str) -> str:
    """Send one SMS; the recipient's `messageId`. `SendError` says whether to retry."""
    settings = context.settings
    key = secret(settings.at_api_key)
    if not key:
        raise SendError("GATEWAY_AT_API_KEY is not set", retry=False)
    form = {"username": settings.at_username, "to": to, "message": message}
    if settings.at_sender_id:
        form["from"] = settings.at_sender_id
    headers = {"apiKey": key, "Accept": "application/json"}
    try:
        response = await context.http.post(settings.at_sms_url, data=form, headers=headers)
    except httpx.HTTPError as exc:
        raise SendError(f"Africa's Talking unreachable: {type(exc).__name__}") from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise SendError(
            f"Africa's Talking answered HTTP {status}",
            retry=True,
            after=retry_after(response.headers),
        )
    if status >= 400:
        detail = response.text[:200].strip()
        raise SendError(f"Africa's Talking answered HTTP {status}: {detail}", retry=False)
    recipient = _recipient(response, to)
    code = recipient.status_code
    if code in SUCCESS:
        return recipient.message_id
    described = f"{recipient.status} ({code})"
    retry = isinstance(code, int) and code >= 500
    raise SendError(f"Africa's Talking refused the message to {to}: {described}", retry=retry)


class Recipient(BaseModel):
    """One recipient of a sent SMS, as Africa's Talking lists it."""

    status_code: int | str | None = Field(None, alias="statusCode")
    status: str = "unknown"
    message_id: str = Field("", alias="messageId")


class MessageData(BaseModel):
    recipients: list[Recipient] = Field(default_factory=list, alias="Recipients")
    message: str = Field("", alias="Message")


class SendAnswer(BaseModel):
    """Africa's Talking's answer to a send: `{"SMSMessageData": {...}}`."""

    data: MessageData = Field(alias="SMSMessageData")


def _recipient(response: httpx.Response, to: str) -> Recipient:
    """The answer's recipient entry for `to` (SendError when there is none)."""
    try:
        data = SendAnswer.model_validate_json(response.content).data
    except ValidationError:
        raise SendError(
            f"Africa's Talking answered HTTP {response.status_code} without SMSMessageData",
            retry=False,
        ) from None
    if data.recipients:
        return data.recipients[0]
    raise SendError(f"Africa's Talking sent nothing to {to}: {data.message[:200]}", retry=False)


async def send_sms_africastalking(outgoing: Outgoing, context: SendContext) -> None:
    """Sends every text of `outgoing` in order; `SendError` on the first failure."""

    async def send(text: str) -> None:
        message_id = await send_sms(context, outgoing.address, text)
        logger.info("Africa's Talking accepted an SMS: at-sms:%s", message_id)

    await send_in_order(texts(outgoing), context, send)


def ready(settings: Settings) -> bool:
    return secret(settings.at_api_key) is not None


SMS = Sender("sms/africastalking", Medium.SMS, send_sms_africastalking, ready)
