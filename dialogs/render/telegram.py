"""Telegram: the text, with the link written in; the options are the inline keyboard the
Telegram provider draws under it."""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered


class TelegramRenderer:
    medium = Medium.TELEGRAM

    def render(self, reply: Reply) -> Rendered:
        text = reply.text or "…"  # Telegram refuses an empty message
        if reply.link and reply.link not in text:
            text = f"{text}\n{reply.link}"
        return Rendered(text=text, end=reply.end, link=reply.link)
