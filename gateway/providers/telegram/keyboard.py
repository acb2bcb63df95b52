"""Telegram's inline keyboard: one button per option, one per row, under the text.

A button shows `key. label` (a navigation option, its label alone) and sends the key back
as `callback_data`, which Telegram limits to 64 bytes.
"""

from __future__ import annotations

from typing import Any

from dialogs.messages import Reply

MAX_CALLBACK_BYTES = 64


def inline_keyboard(reply: Reply) -> dict[str, Any] | None:
    """The Bot API's `reply_markup` for `reply`'s options; None without options."""
    if not reply.options:
        return None
    return {
        "inline_keyboard": [
            [
                {
                    "text": option.label if option.nav else f"{option.key}. {option.label}",
                    "callback_data": option.key.encode()[:MAX_CALLBACK_BYTES].decode(
                        errors="ignore"
                    ),
                }
            ]
            for option in reply.options
        ]
    }
