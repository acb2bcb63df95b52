"""Telegram: text with an inline keyboard, one button per row (callback data <= 64 bytes)."""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered


class TelegramRenderer:
    medium = Medium.TELEGRAM

    def render(self, reply: Reply) -> Rendered:
        text = reply.text or "…"
        if reply.link and reply.link not in text:
            text = f"{text}\n{reply.link}"
        keyboard = None
        if reply.options:
            keyboard = {
                "inline_keyboard": [
                    [
                        {
                            "text": f"{o.key}. {o.label}" if not o.nav else o.label,
                            "callback_data": o.key.encode()[:64].decode(errors="ignore"),
                        }
                    ]
                    for o in reply.options
                ]
            }
        return Rendered(text=text, end=reply.end, interactive=keyboard, link=reply.link)
