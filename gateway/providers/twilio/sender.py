"""Sends SMS and WhatsApp messages through Twilio's REST API (`sms/twilio`,
`whatsapp/twilio`): messages that are not a webhook's TwiML reply (document links,
decisions).

Uses the `twilio` package: `Client(GATEWAY_TWILIO_ACCOUNT_SID, GATEWAY_TWILIO_AUTH_TOKEN)`
with its API domain's base URL set to `GATEWAY_TWILIO_API_URL` (tests point it at a fake),
then `messages.create(to=..., body=..., messaging_service_sid=...)` when
`GATEWAY_TWILIO_MESSAGING_SERVICE_SID` is set, else `from_=GATEWAY_TWILIO_FROM_NUMBER`.
WhatsApp addresses are `whatsapp:+E164`, on both ends. The client is synchronous: each
`Outgoing` is sent in a worker thread (`asyncio.to_thread`).

Each reply is rendered for the sender's medium (a link is written in the text) and cut into bodies
of at most 1600 characters. `TwilioRestException` with status 429 or 5xx, and network
failures, are worth a retry; other refusals (a wrong number, an unverified sender, bad
credentials) are not. The message SID Twilio returns is what its status callbacks name
(`twilio:<sid>` in the message log).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import requests

# The twilio package ships no type information (no py.typed marker).
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from dialogs.media import Medium
from gateway.delivery.outgoing import Outgoing, SendContext, Sender, SendError, send_in_order
from gateway.providers.common import chunks as split_text
from gateway.providers.common import plain_texts
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = 15.0
PREFIX = "whatsapp:"  # WhatsApp addresses, on both ends
MAX_BODY = 1600  # Twilio refuses longer bodies (SMS and WhatsApp)


def chunks(text: str, limit: int = MAX_BODY) -> Iterator[str]:
    """`text` in pieces this provider accepts (see gateway.providers.common.chunks)."""
    return split_text(text, limit)


def bodies(outgoing: Outgoing, medium: Medium) -> Iterator[str]:
    """The message bodies of an `Outgoing` rendered for `medium` (SMS or WhatsApp)."""
    return plain_texts(outgoing, medium, MAX_BODY)


def _whatsapp(address: str) -> str:
    return address if address.startswith(PREFIX) else PREFIX + address


def sender_args(settings: Settings, whatsapp: bool) -> dict[str, str]:
    """`messaging_service_sid` when configured, else `from_`; SendError without either."""
    if settings.twilio_messaging_service_sid:
        return {"messaging_service_sid": settings.twilio_messaging_service_sid}
    if settings.twilio_from_number:
        number = settings.twilio_from_number
        return {"from_": _whatsapp(number) if whatsapp else number}
    raise SendError(
        "set GATEWAY_TWILIO_MESSAGING_SERVICE_SID or GATEWAY_TWILIO_FROM_NUMBER", retry=False
    )


def client_for(settings: Settings) -> Any:
    """A Twilio REST client whose API domain is `GATEWAY_TWILIO_API_URL`."""
    token = secret(settings.twilio_auth_token)
    if not settings.twilio_account_sid or not token:
        raise SendError(
            "GATEWAY_TWILIO_ACCOUNT_SID and GATEWAY_TWILIO_AUTH_TOKEN must be set", retry=False
        )
    http_client = TwilioHttpClient(timeout=HTTP_TIMEOUT)
    client = Client(settings.twilio_account_sid, token, http_client=http_client)
    client.api.base_url = settings.twilio_api_url.rstrip("/")
    return client


def _create(client: Any, to: str, text: str, origin: dict[str, str]) -> str:
    """Blocking: create one message; its SID. `SendError` says whether to retry."""
    try:
        message = client.messages.create(to=to, body=text, **origin)
    except TwilioRestException as exc:
        retry = exc.status == 429 or exc.status >= 500
        raise SendError(
            f"Twilio answered {exc.status} (code {exc.code}): {exc.msg}", retry=retry
        ) from None
    except requests.RequestException as exc:
        raise SendError(f"Twilio unreachable: {type(exc).__name__}") from None
    return str(message.sid)


async def _send(outgoing: Outgoing, context: SendContext, medium: Medium) -> None:
    whatsapp = medium is Medium.WHATSAPP
    to = _whatsapp(outgoing.address) if whatsapp else outgoing.address
    texts = list(bodies(outgoing, medium))
    if not texts:
        return
    origin = sender_args(context.settings, whatsapp)
    client = client_for(context.settings)

    async def send(text: str) -> None:
        # The twilio package blocks: each message is created in a thread, in order.
        sid = await asyncio.to_thread(_create, client, to, text, origin)
        logger.info("Twilio accepted a %s message: twilio:%s", medium, sid)

    try:
        await send_in_order(texts, context, send)
    finally:
        session = getattr(client.http_client, "session", None)
        if session is not None:
            session.close()


async def send_sms_twilio(outgoing: Outgoing, context: SendContext) -> None:
    """Sends every reply of `outgoing` as SMS; `SendError` on the first failure."""
    await _send(outgoing, context, Medium.SMS)


async def send_whatsapp_twilio(outgoing: Outgoing, context: SendContext) -> None:
    """Sends every reply of `outgoing` over WhatsApp; `SendError` on the first failure."""
    await _send(outgoing, context, Medium.WHATSAPP)


def ready(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and secret(settings.twilio_auth_token))


SMS = Sender("sms/twilio", Medium.SMS, send_sms_twilio, ready)
WHATSAPP = Sender("whatsapp/twilio", Medium.WHATSAPP, send_whatsapp_twilio, ready)
