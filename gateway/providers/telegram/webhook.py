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
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.conversations.service import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers.base import Received, refuse
from gateway.providers.common import Access, json_body
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram keeps an undelivered update for 24 h; an update_id is remembered longer, and a
# message older than that (a replayed request: the secret header never changes) is
# acknowledged and ignored.
REMEMBER_SECONDS = 8 * 24 * 3600


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise refuse(400, f"{where} must be an object")
    return value


def _integer(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise refuse(400, f"{where} must be an integer")
    return value


class Telegram:
    """Telegram Bot API webhook updates."""

    name: ClassVar[str] = "telegram"
    path: ClassVar[str] = "/telegram"

    def access(self, settings: Settings) -> Access:
        return Access.AUTHENTICATED if secret(settings.telegram_secret_token) else Access.CLOSED

    async def receive(self, request: Request, settings: Settings) -> Received:
        expected = secret(settings.telegram_secret_token)
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise refuse(403, f"missing or wrong {SECRET_HEADER}")
        update = _object(await json_body(request, "a Telegram Update"), "the update")
        update_id = _integer(update.get("update_id"), "update_id")
        key = f"tg:{update_id}"
        if "message" in update:
            return self._message(_object(update["message"], "message"), key)
        if "callback_query" in update:
            query = _object(update["callback_query"], "callback_query")
            return self._callback(query, key)
        return Received(None, {"update_id": update_id})  # other kinds: acknowledged

    def _message(self, message: dict[str, Any], key: str) -> Received:
        chat = _object(message.get("chat"), "message.chat")
        chat_id = _integer(chat.get("id"), "message.chat.id")
        text = message.get("text")
        if "from" not in message or not isinstance(text, str):
            return Received(None, {"key": key})  # a sticker, a photo, a channel post...
        user = _integer(_object(message["from"], "message.from").get("id"), "message.from.id")
        sent = message.get("date")
        if isinstance(sent, int) and sent < time.time() - REMEMBER_SECONDS:
            logger.warning("telegram update %s sent %s: too old, ignored", key, sent)
            return Received(None, {"key": key})
        return Received(
            Message(
                citizen=f"telegram:{user}",
                medium=Medium.TELEGRAM,
                text=text,
                message_id=key,
                remember=REMEMBER_SECONDS,
            ),
            {"chat_id": chat_id, "key": key},
        )

    def _callback(self, query: dict[str, Any], key: str) -> Received:
        query_id = query.get("id")
        if not isinstance(query_id, str) or not query_id:
            raise refuse(400, "callback_query.id must be a string")
        user = _integer(_object(query.get("from"), "callback_query.from").get("id"), "from.id")
        data = query.get("data")
        message = query.get("message")
        if not isinstance(data, str) or not isinstance(message, dict):
            return Received(None, {"key": key})  # a game, or a button on an inline message
        chat = _object(message.get("chat"), "callback_query.message.chat")
        chat_id = _integer(chat.get("id"), "callback_query.message.chat.id")
        return Received(
            Message(
                citizen=f"telegram:{user}",
                medium=Medium.TELEGRAM,
                text=data,
                choice=data,
                message_id=key,
                remember=REMEMBER_SECONDS,
            ),
            {"chat_id": chat_id, "key": key, "callback_query_id": query_id},
        )

    def outgoing(self, received: Received, replies: list[Reply]) -> Outgoing:
        context = received.context
        extra = {}
        if context.get("callback_query_id"):
            extra["callback_query_id"] = context["callback_query_id"]
        return Outgoing(
            channel="telegram",
            address=str(context["chat_id"]),
            replies=[Outgoing.encode(reply) for reply in replies],
            context=extra,
            key=context["key"],
        )

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return JSONResponse({})
