"""SMS: numbered text; the citizen answers with a number or the option's words."""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered, numbered


class SmsRenderer:
    medium = Medium.SMS

    def render(self, reply: Reply) -> Rendered:
        text = numbered(reply.text, reply.options)
        if reply.link and reply.link not in text:
            text = f"{text}\n{reply.link}"
        return Rendered(text=text, end=reply.end, link=reply.link)
