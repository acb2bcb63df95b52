"""The webhook contract: a provider's request in, what it said as typed values; replies out,
in the provider's response or queued for its API. Nothing past a webhook sees a provider
payload.

Webhooks refuse requests whose signature or secret is wrong (403) and bodies that are not
what the provider sends (400), before anything is processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeAlias, TypeVar

from fastapi import Request, Response

from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.common import Access
from gateway.settings import Settings

C = TypeVar("C")  # what a provider's replies need from its request (a chat id...), or None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's word on a message the gateway sent: recorded in the message log."""

    provider_id: str  # as the message log names the message: "twilio:SM...", "wa:wamid..."
    status: str  # the provider's own word: delivered, failed, Success...
    recipient: str = ""  # the citizen's number in E.164 when the provider names it
    errors: tuple[str, ...] = ()  # the provider's error codes and reasons, as it gives them


@dataclass(frozen=True, slots=True, kw_only=True)
class Received(Generic[C]):
    """What a webhook understood of one request: the citizens' messages (in the order
    sent: only providers that take replies through their API batch several), the
    provider's delivery reports, and what its replies need (`context`)."""

    context: C
    messages: tuple[Message, ...] = ()
    reports: tuple[DeliveryReport, ...] = ()

    @property
    def message(self) -> Message | None:
        """The first message, if any (the only one, for a provider that batches none)."""
        return self.messages[0] if self.messages else None


class Delivery(Enum):
    """How a webhook's replies reach the citizen."""

    RESPONSE = "in the webhook's response"  # USSD aggregators, Twilio's TwiML, the web chat
    API = "queued for the provider's API"  # Meta's Cloud API, Telegram's Bot API, AT's SMS


class ResponseWebhook(Protocol[C]):
    """A provider that takes the replies in its webhook's response: `respond` renders
    them (and only acknowledges a request that carried no message)."""

    delivery: ClassVar[Literal[Delivery.RESPONSE]] = Delivery.RESPONSE
    name: ClassVar[str]  # registry name, e.g. "ussd/africastalking"
    path: ClassVar[str]  # under /channels

    def access(self, settings: Settings) -> Access:
        """Who may call it with these settings (said at start, one line per webhook)."""
        ...

    def body_limit(self, settings: Settings) -> int:
        """The largest body it reads (a provider that batches may send more)."""
        return settings.max_body_bytes

    async def receive(self, request: Request, settings: Settings) -> Received[C]: ...

    def respond(self, received: Received[C], replies: list[Reply]) -> Response: ...


class ApiWebhook(Protocol[C]):
    """A provider that takes replies through its API: the webhook is acknowledged at once,
    and each message's replies become an `Outgoing` the worker sends with the sender
    registered under `Outgoing.sender`."""

    delivery: ClassVar[Literal[Delivery.API]] = Delivery.API
    name: ClassVar[str]
    path: ClassVar[str]

    def access(self, settings: Settings) -> Access: ...

    def body_limit(self, settings: Settings) -> int:
        return settings.max_body_bytes

    async def receive(self, request: Request, settings: Settings) -> Received[C]: ...

    def acknowledge(self, received: Received[C]) -> Response: ...

    def outgoing(self, message: Message, context: C, replies: list[Reply]) -> Outgoing: ...


Webhook: TypeAlias = ResponseWebhook[Any] | ApiWebhook[Any]
"""Any provider's webhook; `delivery` tells which kind (mypy narrows on it)."""
