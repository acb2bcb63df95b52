"""USSD: numbered text in the GSM alphabet, at most 182 characters a screen."""

from __future__ import annotations

from dialogs.gsm import to_gsm
from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered, numbered


class UssdRenderer:
    medium = Medium.USSD

    def render(self, reply: Reply) -> Rendered:
        # Aggregators put CON/END in front; the screen itself is the text below.
        return Rendered(
            text=to_gsm(numbered(reply.text, reply.options)), end=reply.end, link=reply.link
        )
