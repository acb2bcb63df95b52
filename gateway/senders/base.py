"""Outbound messages that are not a webhook's synchronous reply.

A channel whose provider takes replies through an API (Meta's WhatsApp Cloud API,
Telegram's sendMessage) hands its replies to the outbox as an `Outgoing`; the worker sends
it with that channel's registered `Sender`, retrying with backoff when the provider fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from dialogs.messages import Reply, reply_data, reply_from_data
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Replies to deliver to one address over one channel."""

    channel: str  # the sender's registry name, e.g. "telegram", "whatsapp/meta"
    address: str  # chat id, phone number...
    replies: list[dict[str, Any]]  # `encode(reply)` of each reply
    context: dict[str, Any] = field(default_factory=dict)  # e.g. a callback query to answer
    key: str = ""  # idempotency: the same key is sent once

    @staticmethod
    def encode(reply: Reply) -> dict[str, Any]:
        return reply_data(reply)

    def decoded(self) -> list[Reply]:
        return [reply_from_data(item) for item in self.replies]


class SendError(Exception):
    """The provider refused or failed; `retry` says whether trying again can help."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True, slots=True)
class SendContext:
    settings: Settings
    http: httpx.AsyncClient


Sender = Callable[[Outgoing, SendContext], Awaitable[None]]


def chunks(text: str, limit: int) -> Iterator[str]:
    """`text` in pieces of at most `limit` characters (a provider's body limit), cut at
    line ends where possible so a menu line is never split."""
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    if text:
        yield text
