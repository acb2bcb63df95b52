"""WhatsApp through Meta's Cloud API: the webhook of a WhatsApp Business Account.

- `GET /channels/whatsapp/meta` is Meta's verification: `hub.mode=subscribe` with
  `hub.verify_token` equal to `GATEWAY_META_VERIFY_TOKEN` is answered with the raw
  `hub.challenge` (text/plain); anything else, or no token configured, is a 403. The
  route registry only serves POSTs, so this GET comes from `verification_router`.
- `POST /channels/whatsapp/meta` carries `X-Hub-Signature-256: sha256=<hex>`, the
  HMAC-SHA256 of the RAW body under `GATEWAY_META_APP_SECRET`, compared in constant time
  before the body is parsed. A missing or wrong signature, or no secret configured: 403,
  nothing processed. A body that is not a WhatsApp Business Account webhook: 400.

Inbound messages become one `Message`: the citizen is `+` and the sender's `wa_id` (so a
conversation started on USSD or SMS continues here), a text's body is the text, a reply
button's or list row's id is the choice, and the provider id `wa:<wamid>` makes Meta's
redeliveries (at-least-once, for days) duplicates. Delivery updates (`statuses`) are
acknowledged and handed over as `Received.reports`. The body's shape is
`gateway.providers.meta.updates`.

Replies are not part of the webhook response: `outgoing` hands them to the outbox, and the
`whatsapp/meta` sender posts them to the Cloud API as reply buttons, lists or text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import ClassVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.base import ApiWebhook, Received
from gateway.providers.common import Access, citizen_number, json_body, parse_json, refuse
from gateway.providers.meta.sender import WHATSAPP
from gateway.providers.meta.updates import OBJECT, MetaMessage, Payload
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_TEXT = 4096  # WhatsApp text messages are at most 4096 characters
MAX_CHOICE = 256  # reply button ids are at most 256 characters (list rows 200)
# Meta redelivers a webhook it got no 200 for during 7 days: a message id is remembered
# longer, and a message older than that (a replayed request) is acknowledged and ignored.
REMEMBER_SECONDS = 8 * 24 * 3600
EXPECTED = (
    f'a WhatsApp Business Account webhook ("object": "{OBJECT}", its changes holding '
    'lists of "messages" and "statuses")'
)


@dataclass(frozen=True, slots=True)
class BusinessNumber:
    """The business number the citizens wrote to (the first message's): replies go from
    it when GATEWAY_META_PHONE_NUMBER_ID names none."""

    phone_number_id: str = ""


def hub_signature(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body` (for tests and tools)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(app_secret: str, body: bytes, header: str) -> bool:
    """Whether `header` is Meta's signature of exactly these bytes (constant time)."""
    expected = hub_signature(app_secret, body).encode()
    return hmac.compare_digest(expected, header.strip().lower().encode())


def verification_router(settings: Settings) -> APIRouter:
    """`GET /channels/whatsapp/meta`: Meta's webhook verification handshake."""
    router = APIRouter(prefix="/channels", tags=["channels"])

    @router.get(
        MetaWhatsApp.path,
        name=f"{MetaWhatsApp.name} verification",
        response_class=PlainTextResponse,
        responses={403: {"description": "wrong mode or verify token"}},
    )
    def verify(
        mode: str = Query("", alias="hub.mode"),
        token: str = Query("", alias="hub.verify_token"),
        challenge: str = Query("", alias="hub.challenge"),
    ) -> PlainTextResponse:
        """Answers Meta's subscription check with the raw challenge."""
        expected = secret(settings.meta_verify_token)
        if (
            not expected
            or mode != "subscribe"
            or not hmac.compare_digest(token.encode(), expected.encode())
        ):
            raise refuse(403, "wrong hub.mode or hub.verify_token")
        return PlainTextResponse(challenge)

    return router


class MetaWhatsApp(ApiWebhook[BusinessNumber]):
    """Inbound WhatsApp messages and statuses from Meta's Cloud API; replies via the API."""

    name: ClassVar[str] = WHATSAPP.name
    path: ClassVar[str] = "/whatsapp/meta"
    max_body_bytes: ClassVar[int] = 3 * 1024 * 1024  # Meta batches up to 3 MB of updates

    def access(self, settings: Settings) -> Access:
        return Access.AUTHENTICATED if secret(settings.meta_app_secret) else Access.CLOSED

    def body_limit(self, settings: Settings) -> int:
        return self.max_body_bytes

    async def receive(self, request: Request, settings: Settings) -> Received[BusinessNumber]:
        app_secret = secret(settings.meta_app_secret)
        if not app_secret:
            raise refuse(403, "WhatsApp webhooks are refused: no app secret is configured")
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise refuse(403, f"missing {SIGNATURE_HEADER}")
        body = await request.body()
        if not signature_valid(app_secret, body, header):
            raise refuse(403, f"wrong {SIGNATURE_HEADER}")
        payload = parse_json(Payload, json_body(body, EXPECTED), EXPECTED)
        received = [(_message(message), message, value) for message, value in payload.messages()]
        fresh = time.time() - REMEMBER_SECONDS
        kept = [(m, value) for m, message, value in received if _sent_at(message) >= fresh]
        if len(kept) < len(received):
            logger.warning(
                "whatsapp: %d message(s) older than 8 days ignored", len(received) - len(kept)
            )
        reports = tuple(status.report() for status in payload.statuses())
        for report in reports:
            logger.info("whatsapp status %s: %s", report.provider_id, report.status)
        # Meta may batch several messages (of one or several citizens) in one webhook and
        # does not redeliver after a 200: every one is handled, in the order sent.
        number = kept[0][1].metadata.phone_number_id if kept else None
        return Received(
            context=BusinessNumber(number or ""),
            messages=tuple(message for message, _ in kept),
            reports=reports,
        )

    def acknowledge(self, received: Received[BusinessNumber]) -> Response:
        # Meta only needs a 2xx quickly; replies go through the Cloud API (`outgoing`).
        return JSONResponse({"status": "ok"})

    def outgoing(self, message: Message, context: BusinessNumber, replies: list[Reply]) -> Outgoing:
        number = context.phone_number_id
        return Outgoing(
            sender=WHATSAPP.name,
            address=message.citizen,
            replies=[Outgoing.encode(reply) for reply in replies],
            context={"phone_number_id": number} if number else {},
            key=message.message_id or "",
        )


def _sent_at(message: MetaMessage) -> float:
    """When the citizen sent a message; now when Meta did not say (the signature vouches
    for the body)."""
    return message.timestamp if message.timestamp is not None else time.time()


def _message(message: MetaMessage) -> Message:
    # Types without an answer (image, audio, location, reaction...) are an empty message:
    # the citizen gets the current screen again.
    answer = message.answer()
    return Message(
        citizen=citizen_number(message.sender, "from"),
        medium=Medium.WHATSAPP,
        text=answer.text[:MAX_TEXT],
        choice=answer.choice[:MAX_CHOICE] if answer.choice else None,
        message_id=f"wa:{message.id}",
        remember=REMEMBER_SECONDS,
    )
