"""The channel adapter contract: a provider's request in, a `Message`; replies out, the
provider's response. Nothing past an adapter sees a provider payload.

Adapters refuse requests whose signature or secret is wrong (403) and bodies that are not
what the provider sends (400), before anything is processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request, Response

from dialogs.messages import Reply
from gateway.conversations.service import Message
from gateway.delivery.outgoing import Outgoing
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.providers.common import Access


@dataclass(frozen=True, slots=True)
class Received:
    """What an adapter understood: a citizen's message, or a notice to acknowledge."""

    message: Message | None
    context: dict[str, Any] = field(default_factory=dict)  # kept for the response
    # Further messages of a webhook that batches several (Meta may): handled in order
    # after `message`. Only channels that reply through an API batch.
    more: tuple[Message, ...] = ()


class Webhook(Protocol):
    """One provider's webhook.

    Channels whose provider takes replies in the webhook response (USSD, Twilio) render
    them in `respond`. Channels whose provider takes replies through its API (Meta's
    WhatsApp, Telegram) return an `Outgoing` from `outgoing`; the gateway queues it for
    the worker and `respond` only acknowledges the webhook.
    """

    name: ClassVar[str]  # registry name, e.g. "ussd/africastalking"
    path: ClassVar[str]  # under /channels

    def access(self, settings: Settings) -> Access:
        """Who may call it with these settings (said at start, one line per adapter)."""
        ...

    async def receive(self, request: Request, settings: Settings) -> Received: ...

    def respond(self, received: Received, replies: list[Reply]) -> Response: ...


class ApiWebhook(Webhook, Protocol):
    """A channel whose replies are sent through the provider's API by the worker."""

    def outgoing(self, received: Received, replies: list[Reply]) -> Outgoing: ...


MAX_FORM_BYTES = 64 * 1024  # providers send a few hundred bytes


def refuse(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=detail)


async def form_fields(request: Request, required: tuple[str, ...]) -> dict[str, str]:
    """The form body as strings; 400 naming what is missing when it is not a form."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise refuse(415, "expected application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise refuse(413, "the form body is too large")
    try:
        # The standard library's parser: several times cheaper than a multipart parser
        # for the small urlencoded bodies aggregators send on every USSD hop.
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise refuse(400, "the form body could not be read") from exc
    fields = dict(pairs)
    missing = [name for name in required if name not in fields]
    if missing:
        raise refuse(400, "missing form fields: " + ", ".join(missing))
    return fields
