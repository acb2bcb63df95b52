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
acknowledged and handed over in `Received.context["statuses"]`.

Replies are not part of the webhook response: `outgoing` hands them to the outbox, and the
`whatsapp/meta` sender posts them to the Cloud API as reply buttons, lists or text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from typing import Any, ClassVar

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.service import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.base import Received, refuse
from gateway.providers.common import Access, citizen_number
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
OBJECT = "whatsapp_business_account"
SENDER = "whatsapp/meta"
MAX_TEXT = 4096  # WhatsApp text messages are at most 4096 characters
MAX_CHOICE = 256  # reply button ids are at most 256 characters (list rows 200)
WA_ID = re.compile(r"^[1-9][0-9]{6,14}$")  # a phone number without its "+"
MAX_ID = 256
# Meta redelivers a webhook it got no 200 for during 7 days: a message id is remembered
# longer, and a message older than that (a replayed request) is acknowledged and ignored.
REMEMBER_SECONDS = 8 * 24 * 3600


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
        name=f"{SENDER} verification",
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


class MetaWhatsApp:
    """Inbound WhatsApp messages and statuses from Meta's Cloud API; replies via the API."""

    name: ClassVar[str] = SENDER
    path: ClassVar[str] = "/whatsapp/meta"
    max_body_bytes: ClassVar[int] = 3 * 1024 * 1024  # Meta batches up to 3 MB of updates

    def access(self, settings: Settings) -> Access:
        return Access.AUTHENTICATED if secret(settings.meta_app_secret) else Access.CLOSED

    async def receive(self, request: Request, settings: Settings) -> Received:
        app_secret = secret(settings.meta_app_secret)
        if not app_secret:
            raise refuse(403, "WhatsApp webhooks are refused: no app secret is configured")
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise refuse(403, f"missing {SIGNATURE_HEADER}")
        body = await request.body()
        if not signature_valid(app_secret, body, header):
            raise refuse(403, f"wrong {SIGNATURE_HEADER}")
        try:
            data = orjson.loads(body)  # nesting past 1024 levels: an error, not a crash
        except orjson.JSONDecodeError as exc:
            raise refuse(400, "the body is not JSON") from exc
        messages, statuses = _updates(data)
        parsed = [(_message(message), message, value) for message, value in messages]
        fresh = time.time() - REMEMBER_SECONDS
        kept = [(m, value) for m, message, value in parsed if _sent_at(message) >= fresh]
        if len(kept) < len(parsed):
            logger.warning(
                "whatsapp: %d message(s) older than 8 days ignored", len(parsed) - len(kept)
            )
        context: dict[str, Any] = {}
        if statuses:
            context["statuses"] = statuses
            for status in statuses:
                logger.info("whatsapp status %s: %s", status["id"], status["status"])
        if not kept:
            return Received(None, context)
        # Meta may batch several messages (of one or several citizens) in one webhook and
        # does not redeliver after a 200: every one is handled, in the order sent.
        first, value = kept[0]
        phone_number_id = value.get("metadata", {}).get("phone_number_id")
        if isinstance(phone_number_id, str) and phone_number_id:
            context["phone_number_id"] = phone_number_id
        return Received(first, context, tuple(message for message, _ in kept[1:]))

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        # Meta only needs a 2xx quickly; replies go through the Cloud API (`outgoing`).
        return JSONResponse({"status": "ok"})

    def outgoing(self, received: Received, replies: list[Reply]) -> Outgoing:
        message = received.message
        assert message is not None  # only called for a citizen's message
        context = {}
        if "phone_number_id" in received.context:
            context["phone_number_id"] = received.context["phone_number_id"]
        return Outgoing(
            channel=SENDER,
            address=message.citizen,
            replies=[Outgoing.encode(reply) for reply in replies],
            context=context,
            key=message.message_id or "",
        )


def _updates(data: Any) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[Any]]:
    """(message, its change's value) pairs and statuses of a webhook; 400 when the body is
    not a WhatsApp Business Account webhook. Changes of other fields are acknowledged."""
    if not isinstance(data, dict) or data.get("object") != OBJECT:
        raise refuse(400, f'expected a webhook with "object": "{OBJECT}"')
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise refuse(400, 'expected "entry" to be a list')
    messages: list[tuple[dict[str, Any], dict[str, Any]]] = []
    statuses: list[Any] = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise refuse(400, 'expected each entry to have a list of "changes"')
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise refuse(400, 'expected each change to have a "value" object')
            if change.get("field") != "messages":
                continue  # account or template updates: nothing to do
            value: dict[str, Any] = change["value"]
            if not isinstance(value.get("metadata", {}), dict):
                raise refuse(400, 'expected "metadata" to be an object')
            found = value.get("messages", [])
            delivered = value.get("statuses", [])
            if not isinstance(found, list) or not isinstance(delivered, list):
                raise refuse(400, 'expected "messages" and "statuses" to be lists')
            for message in found:
                if not isinstance(message, dict):
                    raise refuse(400, "expected each message to be an object")
                messages.append((message, value))
            statuses.extend(_status(status) for status in delivered)
    return messages, statuses


def _status(status: Any) -> dict[str, Any]:
    if not isinstance(status, dict):
        raise refuse(400, "expected each status to be an object")
    wamid, state = status.get("id"), status.get("status")
    if not isinstance(wamid, str) or not isinstance(state, str):
        raise refuse(400, 'expected each status to have an "id" and a "status"')
    recipient = status.get("recipient_id")
    timestamp = status.get("timestamp")
    errors = status.get("errors")
    return {
        "id": wamid,
        "status": state,
        "recipient": f"+{recipient}" if isinstance(recipient, str) and recipient else "",
        # Only what Meta sends (a string of digits): anything else, however deep, is
        # never turned into text (a list nested 1,000 deep exhausts the stack).
        "timestamp": timestamp if isinstance(timestamp, str) else "",
        "errors": [
            {"code": error.get("code"), "title": str(error.get("title", ""))[:200]}
            for error in (errors if isinstance(errors, list) else [])
            if isinstance(error, dict)
            and isinstance(error.get("code"), int)
            and isinstance(error.get("title", ""), str)
        ],
    }


def _sent_at(message: dict[str, Any]) -> float:
    """When the citizen sent a message (Meta's `timestamp`, Unix seconds as a string);
    now when it is missing or unreadable (the signature vouches for the body)."""
    try:
        return float(message.get("timestamp", ""))
    except (TypeError, ValueError):
        return time.time()


def _text(message: dict[str, Any], part: str, key: str) -> str:
    section = message.get(part)
    value = section.get(key) if isinstance(section, dict) else None
    if not isinstance(value, str):
        raise refuse(400, f'expected a "{part}" message to have "{part}.{key}"')
    return value


def _message(message: dict[str, Any]) -> Message:
    wa_id, wamid, kind = message.get("from"), message.get("id"), message.get("type")
    if not isinstance(wa_id, str) or not WA_ID.match(wa_id):
        raise refuse(400, 'the message\'s "from" is not a WhatsApp id (a phone number)')
    citizen = citizen_number(wa_id, "from")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= MAX_ID:
        raise refuse(400, 'the message has no "id"')
    text, choice = "", None
    if kind == "text":
        text = _text(message, "text", "body")
    elif kind == "interactive":
        interactive = message.get("interactive")
        if not isinstance(interactive, dict):
            raise refuse(400, 'expected an "interactive" message to have "interactive"')
        answer_type = interactive.get("type")
        if answer_type in ("button_reply", "list_reply"):
            choice = _text(interactive, answer_type, "id")
            text = _text(interactive, answer_type, "title")
    elif kind == "button":  # a template's quick-reply button
        choice = _text(message, "button", "payload")
        text = _text(message, "button", "text")
    # Other types (image, audio, location, reaction...) carry no answer: the citizen gets
    # the current screen again.
    return Message(
        citizen=citizen,
        medium=Medium.WHATSAPP,
        text=text[:MAX_TEXT],
        choice=choice[:MAX_CHOICE] if choice else None,
        message_id=f"wa:{wamid}",
        remember=REMEMBER_SECONDS,
    )
