"""Web chat: text with quick-reply buttons, in the JSON the chat page reads."""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered


class WebRenderer:
    medium = Medium.WEB

    def render(self, reply: Reply) -> Rendered:
        options = [{"key": o.key, "label": o.label} for o in reply.options]
        return Rendered(
            text=reply.text,
            end=reply.end,
            link=reply.link,
            interactive={"options": options} if options else None,
        )
