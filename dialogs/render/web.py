"""Web chat: the text; the chat page shows the options as quick-reply buttons (the web
provider sends them beside the text, in the JSON the page reads)."""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered


class WebRenderer:
    medium = Medium.WEB

    def render(self, reply: Reply) -> Rendered:
        return Rendered(text=reply.text, end=reply.end, link=reply.link)
