"""Telegram: `POST /channels/telegram`, the Bot API webhook (`setWebhook` with a
`secret_token`).

Every update carries `X-Telegram-Bot-Api-Secret-Token`, compared in constant time with
`GATEWAY_TELEGRAM_SECRET_TOKEN` (unset or different: 403, nothing processed). A text
message and a button press (`callback_query.data`, the option key) reach the conversation
as the citizen `telegram:<user id>`; `update_id` makes a redelivered update one effect.
Other updates (edits, channel posts, stickers...) are acknowledged and ignored.

Replies go through the Bot API, not the webhook response: `outgoing` hands them to the
worker (`sendMessage` with an inline keyboard, `answerCallbackQuery` for a press) and the
webhook is answered 200 `{}`.

The update is read as the Bot API documents its types (strict: an id is an integer, never
a string of digits); only the fields used are read.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import ClassVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.base import ApiWebhook, Received
from gateway.providers.common import Access, Body, Lenient, read_json, refuse
from gateway.providers.telegram.sender import TELEGRAM
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram keeps an undelivered update for 24 h; an update_id is remembered longer, and a
# message older than that (a replayed request: the secret header never changes) is
# acknowledged and ignored.
REMEMBER_SECONDS = 8 * 24 * 3600


class BotApiType(Body):
    model_config = ConfigDict(strict=True)


class Chat(BotApiType):
    id: int


class User(BotApiType):
    id: int


class TelegramMessage(BotApiType):
    chat: Chat
    sender: User | None = Field(default=None, alias="from")  # none in a channel post
    text: Lenient[str] = None  # none in a sticker, a photo...
    date: Lenient[int] = None


class CallbackQuery(BotApiType):
    """A press on an inline keyboard button; `data` is the option's key."""

    id: str = Field(min_length=1)
    sender: User = Field(alias="from")
    data: Lenient[str] = None  # none for a game's button
    message: TelegramMessage | None = None  # none on an inline message's button


class Update(BotApiType):
    update_id: int
    message: TelegramMessage | None = None
    callback_query: CallbackQuery | None = None


@dataclass(frozen=True, slots=True)
class TelegramChat:
    """Where the replies go, and the button press to answer (stops its spinner)."""

    chat_id: int
    callback_query_id: str | None = None


class Telegram(ApiWebhook[TelegramChat | None]):
    """Telegram Bot API webhook updates."""

    name: ClassVar[str] = TELEGRAM.name
    path: ClassVar[str] = "/telegram"

    def access(self, settings: Settings) -> Access:
        return Access.AUTHENTICATED if secret(settings.telegram_secret_token) else Access.CLOSED

    async def receive(self, request: Request, settings: Settings) -> Received[TelegramChat | None]:
        expected = secret(settings.telegram_secret_token)
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise refuse(403, f"missing or wrong {SECRET_HEADER}")
        update = await read_json(request, Update, "a Telegram Update")
        key = f"tg:{update.update_id}"
        if update.message is not None:
            return _message(update.message, key)
        if update.callback_query is not None:
            return _press(update.callback_query, key)
        return Received(context=None)  # other kinds (edits, chat members...): acknowledged

    def acknowledge(self, received: Received[TelegramChat | None]) -> Response:
        return JSONResponse({})

    def outgoing(
        self, message: Message, context: TelegramChat | None, replies: list[Reply]
    ) -> Outgoing:
        if context is None:  # `receive` gives every message its chat
            raise ValueError(f"no chat to answer {message.message_id} in")
        callback = context.callback_query_id
        return Outgoing(
            sender=TELEGRAM.name,
            address=str(context.chat_id),
            replies=[Outgoing.encode(reply) for reply in replies],
            context={"callback_query_id": callback} if callback else {},
            key=message.message_id or "",
        )


def _message(message: TelegramMessage, key: str) -> Received[TelegramChat | None]:
    if message.sender is None or message.text is None:
        return Received(context=None)  # a sticker, a photo, a channel post...
    if message.date is not None and message.date < time.time() - REMEMBER_SECONDS:
        logger.warning("telegram update %s sent %s: too old, ignored", key, message.date)
        return Received(context=None)
    said = Message(
        citizen=f"telegram:{message.sender.id}",
        medium=Medium.TELEGRAM,
        text=message.text,
        message_id=key,
        remember=REMEMBER_SECONDS,
    )
    return Received(context=TelegramChat(message.chat.id), messages=(said,))


def _press(query: CallbackQuery, key: str) -> Received[TelegramChat | None]:
    if query.data is None or query.message is None:
        return Received(context=None)  # a game, or a button on an inline message
    pressed = Message(
        citizen=f"telegram:{query.sender.id}",
        medium=Medium.TELEGRAM,
        text=query.data,
        choice=query.data,
        message_id=key,
        remember=REMEMBER_SECONDS,
    )
    chat = TelegramChat(query.message.chat.id, callback_query_id=query.id)
    return Received(context=chat, messages=(pressed,))
