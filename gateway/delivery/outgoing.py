"""Outbound messages that are not a webhook's synchronous reply, and the senders that
deliver them.

A webhook whose provider takes replies through an API (Meta's WhatsApp Cloud API,
Telegram's sendMessage, Africa's Talking's messaging API) hands its replies to the outbox
as an `Outgoing`; so do notifications and verification codes. The worker sends it with the
`Sender` registered under `Outgoing.sender` (`gateway.providers.SENDERS`), retrying with
backoff when the provider fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx2 as httpx

from dialogs.media import Medium
from dialogs.messages import Reply, reply_data, reply_from_data
from gateway.settings import Settings


@dataclass(frozen=True, slots=True, init=False)
class Outgoing:
    """Replies to deliver to one address with one sender. Queued as
    `dataclasses.asdict(outgoing)`: its fields are what a job carries."""

    sender: str  # the sender's registry name, e.g. "telegram", "whatsapp/meta"
    address: str  # chat id, phone number...
    replies: list[dict[str, Any]]  # `encode(reply)` of each reply
    context: dict[str, str]  # what the sender needs besides, e.g. a callback query to answer
    key: str  # idempotency: the same key is sent once

    def __init__(
        self,
        sender: str = "",
        address: str = "",
        replies: list[dict[str, Any]] | None = None,
        context: dict[str, str] | None = None,
        key: str = "",
        *,
        channel: str = "",  # `sender`'s former name, until every caller passes `sender`
    ) -> None:
        object.__setattr__(self, "sender", sender or channel)
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "replies", replies if replies is not None else [])
        object.__setattr__(self, "context", context if context is not None else {})
        object.__setattr__(self, "key", key)

    @classmethod
    def from_job(cls, payload: Mapping[str, Any]) -> Outgoing:
        """The `Outgoing` a queued job carries. Jobs queued by a release before `sender`
        had its name say `channel`: they are delivered all the same."""
        return cls(
            sender=payload.get("sender") or payload.get("channel", ""),
            address=payload["address"],
            replies=payload["replies"],
            context=payload.get("context") or {},
            key=payload.get("key", ""),
        )

    @property
    def channel(self) -> str:
        """`sender`'s former name, read by the outbox's job ids (unchanged: a redelivered
        webhook still finds the job queued before this release)."""
        return self.sender

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


@dataclass(frozen=True, slots=True)
class Sender:
    """A provider's API for messages the gateway sends, registered under `name`: it
    reaches citizens of `medium` (what an SMS or WhatsApp message costs is counted in
    that medium's parts)."""

    name: str  # e.g. "sms/africastalking", "whatsapp/meta"
    medium: Medium
    send: Callable[[Outgoing, SendContext], Awaitable[None]]  # `SendError` on a failure
    ready: Callable[[Settings], bool]  # whether the credentials it needs are set
