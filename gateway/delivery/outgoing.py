"""Outbound messages that are not a webhook's synchronous reply.

A channel whose provider takes replies through an API (Meta's WhatsApp Cloud API,
Telegram's sendMessage) hands its replies to the outbox as an `Outgoing`; the worker sends
it with that channel's registered `Sender`, retrying with backoff when the provider fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx2 as httpx

from dialogs.media import Medium
from dialogs.messages import Reply, reply_data, reply_from_data
from dialogs.render import Rendered, renderer_for
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
    """The provider refused or failed; `retry` says whether trying again can help, and
    `after` how many seconds the provider asked us to wait first (429 Retry-After)."""

    def __init__(self, message: str, *, retry: bool = True, after: float = 0.0) -> None:
        super().__init__(message)
        self.retry = retry
        self.after = after


def retry_after(headers: Mapping[str, str]) -> float:
    """A `Retry-After` header in seconds (0 when absent or given as a date)."""
    value = headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


class Progress(Protocol):
    """How many parts of one `Outgoing` the provider already accepted.

    A reply can be several provider messages (a long text cut in parts, a document after
    its text). When part 3 fails, the retry must not send parts 1 and 2 again: the
    citizen would read them twice. Kept outside the job so a retry on another worker
    sees it; a crash between a send and its mark still resends that one part
    (at-least-once, never less).
    """

    async def sent(self) -> int: ...

    async def mark(self, count: int) -> None: ...


@dataclass(frozen=True, slots=True)
class SendContext:
    settings: Settings
    http: httpx.AsyncClient
    progress: Progress | None = None  # the job's, when the worker can resume a send


Part = TypeVar("Part")


async def send_in_order(
    parts: Iterable[Part], context: SendContext, send: Callable[[Part], Awaitable[None]]
) -> None:
    """`send` each part in order, skipping those a previous try already delivered."""
    progress = context.progress
    done = await progress.sent() if progress is not None else 0
    for index, part in enumerate(parts):
        if index < done:
            continue
        await send(part)
        if progress is not None:
            await progress.mark(index + 1)


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


def with_link(rendered: Rendered) -> str:
    """A rendered reply as plain text: its link written after the text, where a channel
    cannot attach it (an SMS, a WhatsApp text message)."""
    text, link = rendered.text, rendered.link
    if link and link not in text:
        return f"{text}\n{link}" if text else link
    return text


def plain_texts(outgoing: Outgoing, medium: Medium, limit: int) -> Iterator[str]:
    """The text messages of `outgoing` rendered for `medium`, links written in, each at
    most `limit` characters (the provider's body limit)."""
    renderer = renderer_for(medium)
    for reply in outgoing.decoded():
        yield from chunks(with_link(renderer.render(reply)), limit)
