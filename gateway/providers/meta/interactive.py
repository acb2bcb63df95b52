"""Meta's interactive messages: a reply's options as reply buttons or a list.

Up to 3 options with short, distinct titles become reply buttons; up to 10 a list, its
long titles cut (the whole label goes under the title). A reply with more options, or a
text too long to carry them, is sent as the WhatsApp renderer's numbered text instead.
The limits are WhatsApp's (`dialogs.media.WHATSAPP_CHOICES`): the engine pages long
menus to fit them, and the checker warns about labels that would be cut.
"""

from __future__ import annotations

from typing import Any

from dialogs.media import WHATSAPP_CHOICES, ChoiceLimits
from dialogs.messages import Reply, ReplyOption

LIST_BUTTON, LIST_SECTION = "Choose", "Options"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def interactive(reply: Reply, limits: ChoiceLimits = WHATSAPP_CHOICES) -> dict[str, Any] | None:
    """The Cloud API's `interactive` object for `reply`; None when it is numbered text."""
    options = reply.options
    body = reply.text or "…"
    if not options or len(body) > limits.body:
        return None
    titles = [option.label for option in options]
    if (
        len(options) <= limits.buttons
        and all(len(title) <= limits.button_title for title in titles)
        and len(set(titles)) == len(titles)
    ):
        return {"type": "button", "body": {"text": body}, "action": {"buttons": _buttons(options)}}
    if len(options) <= limits.rows:
        section = {"title": LIST_SECTION, "rows": _rows(options, limits)}
        return {
            "type": "list",
            "body": {"text": body},
            "action": {"button": LIST_BUTTON, "sections": [section]},
        }
    return None


def _buttons(options: tuple[ReplyOption, ...]) -> list[dict[str, Any]]:
    return [{"type": "reply", "reply": {"id": o.key, "title": o.label}} for o in options]


def _rows(options: tuple[ReplyOption, ...], limits: ChoiceLimits) -> list[dict[str, str]]:
    rows = []
    for option in options:
        row = {"id": option.key, "title": _cut(option.label, limits.row_title)}
        if len(option.label) > limits.row_title:
            row["description"] = _cut(option.label, limits.row_description)
        rows.append(row)
    return rows
