"""Telegram Bot API sender: `answerCallbackQuery`, then `sendMessage` for each reply.

Calls `{GATEWAY_TELEGRAM_API_URL}/bot{GATEWAY_TELEGRAM_BOT_TOKEN}/{method}` with a JSON
body. Options become an inline keyboard (`gateway.providers.telegram.keyboard`) under the
text the Telegram renderer writes. 429 and 5xx (and network failures) are worth retrying;
other 4xx are not. Answering the callback query only stops the button's spinner, so a
refusal there (the query expired) does not stop the messages.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2 as httpx
from pydantic import BaseModel, ValidationError

from dialogs.media import Medium
from dialogs.render import renderer_for
from gateway.delivery.outgoing import Outgoing, SendContext, Sender, SendError, send_in_order
from gateway.providers.common import chunks as split_text
from gateway.providers.telegram.keyboard import inline_keyboard
from gateway.settings import Settings, secret

logger = logging.getLogger(__name__)

MAX_TEXT = 4096


def chunks(text: str, size: int = MAX_TEXT) -> list[str]:
    """`text` in pieces Telegram accepts (an empty text is one empty piece)."""
    return list(split_text(text, size)) or [text]


class FloodControl(BaseModel):
    retry_after: float = 0.0  # seconds, on a 429


class BotAnswer(BaseModel):
    """What the Bot API answers to any method: `{"ok": true, "result": ...}`, or
    `{"ok": false, "description": ..., "parameters": {"retry_after": n}}`."""

    ok: bool = False
    description: str = ""
    parameters: FloodControl | None = None

    @classmethod
    def of(cls, response: httpx.Response) -> BotAnswer:
        """The answer in `response`; one that is not the Bot API's shape is not ok."""
        try:
            return cls.model_validate_json(response.content)
        except ValidationError:
            return cls()

    @property
    def retry_after(self) -> float:
        seconds = self.parameters.retry_after if self.parameters else 0.0
        return seconds if seconds > 0 else 0.0


async def call(context: SendContext, method: str, body: dict[str, Any]) -> BotAnswer:
    """POST one Bot API method; SendError says whether trying again can help."""
    token = secret(context.settings.telegram_bot_token)
    if not token:
        raise SendError("GATEWAY_TELEGRAM_BOT_TOKEN is not set", retry=False)
    url = f"{context.settings.telegram_api_url.rstrip('/')}/bot{token}/{method}"
    try:
        response = await context.http.post(url, json=body)
    except httpx.HTTPError as exc:  # never str(exc): the URL holds the token
        raise SendError(f"{method}: {type(exc).__name__}", retry=True) from None
    answer = BotAnswer.of(response)
    status = response.status_code
    said = f"{method}: HTTP {status} {answer.description}".strip()
    if status == 429 or status >= 500:
        raise SendError(said, retry=True, after=answer.retry_after)
    if status >= 400 or not answer.ok:
        raise SendError(said, retry=False)
    return answer


async def send_telegram(outgoing: Outgoing, context: SendContext) -> None:
    callback = outgoing.context.get("callback_query_id")
    if callback:
        try:
            await call(context, "answerCallbackQuery", {"callback_query_id": callback})
        except SendError as exc:
            if exc.retry:
                raise
            logger.info("callback query not answered: %s", exc)
    renderer = renderer_for(Medium.TELEGRAM)
    address = outgoing.address
    chat_id: int | str = int(address) if address.lstrip("-").isdigit() else address
    bodies: list[dict[str, Any]] = []
    for reply in outgoing.decoded():
        pieces = chunks(renderer.render(reply).text)
        keyboard = inline_keyboard(reply)
        for index, piece in enumerate(pieces):
            body: dict[str, Any] = {"chat_id": chat_id, "text": piece}
            if keyboard and index == len(pieces) - 1:  # under the last piece
                body["reply_markup"] = keyboard
            bodies.append(body)

    async def send(body: dict[str, Any]) -> None:
        await call(context, "sendMessage", body)

    await send_in_order(bodies, context, send)


def ready(settings: Settings) -> bool:
    return secret(settings.telegram_bot_token) is not None


TELEGRAM = Sender("telegram", Medium.TELEGRAM, send_telegram, ready)
