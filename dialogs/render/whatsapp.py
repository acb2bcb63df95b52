"""WhatsApp: numbered text, as every WhatsApp provider can send it.

Where the provider can (Meta's Cloud API), the options are drawn as reply buttons or a
list instead, within `dialogs.media.WHATSAPP_CHOICES`; the numbered text stays what the
citizen reads elsewhere (Twilio's free-form messages, the message log).
"""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render.base import Rendered, numbered


class WhatsAppRenderer:
    medium = Medium.WHATSAPP

    def render(self, reply: Reply) -> Rendered:
        return Rendered(text=numbered(reply.text, reply.options), end=reply.end, link=reply.link)
