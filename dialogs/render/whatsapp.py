"""WhatsApp: reply buttons (up to 3), a list (up to 10 rows), else numbered text.

Limits from Meta's Cloud API: button titles <= 20 characters, row titles <= 24, row
descriptions <= 72, ids <= 256 / 200, body <= 1024 for interactive messages.
"""

from __future__ import annotations

from typing import Any

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered, numbered

MAX_BUTTONS, MAX_ROWS = 3, 10
BUTTON_TITLE, ROW_TITLE, ROW_DESCRIPTION, BODY = 20, 24, 72, 1024


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class WhatsAppRenderer:
    medium = Medium.WHATSAPP

    def render(self, reply: Reply) -> Rendered:
        options = reply.options
        plain = numbered(reply.text, options)
        interactive: dict[str, Any] | None = None
        body = reply.text or "…"
        if options and len(body) <= BODY:
            titles = [o.label for o in options]
            if (
                len(options) <= MAX_BUTTONS
                and all(len(t) <= BUTTON_TITLE for t in titles)
                and len(set(titles)) == len(titles)
            ):
                interactive = {
                    "type": "button",
                    "body": {"text": body},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": o.key, "title": o.label}}
                            for o in options
                        ]
                    },
                }
            elif len(options) <= MAX_ROWS:
                rows = []
                for o in options:
                    row: dict[str, Any] = {"id": o.key, "title": _cut(o.label, ROW_TITLE)}
                    if len(o.label) > ROW_TITLE:
                        row["description"] = _cut(o.label, ROW_DESCRIPTION)
                    rows.append(row)
                interactive = {
                    "type": "list",
                    "body": {"text": body},
                    "action": {
                        "button": "Choose",
                        "sections": [{"title": "Options", "rows": rows}],
                    },
                }
        return Rendered(text=plain, end=reply.end, interactive=interactive, link=reply.link)
