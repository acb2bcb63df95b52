"""Renderers by channel name: how a channel-neutral Reply looks on each channel."""

from __future__ import annotations

from dialogs.render.base import Rendered, Renderer
from dialogs.render.sms import SmsRenderer
from dialogs.render.telegram import TelegramRenderer
from dialogs.render.ussd import UssdRenderer
from dialogs.render.web import WebRenderer
from dialogs.render.whatsapp import WhatsAppRenderer

RENDERERS: dict[str, Renderer] = {
    renderer.name: renderer
    for renderer in (
        UssdRenderer(),
        SmsRenderer(),
        WhatsAppRenderer(),
        TelegramRenderer(),
        WebRenderer(),
    )
}


def renderer_for(channel: str) -> Renderer:
    return RENDERERS.get(channel, RENDERERS["sms"])


__all__ = ["RENDERERS", "Rendered", "Renderer", "renderer_for"]
