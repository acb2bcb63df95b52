"""Renderers by medium: how a Reply looks on each medium."""

from __future__ import annotations

from dialogs.media import Medium
from dialogs.render.base import Rendered, Renderer
from dialogs.render.sms import SmsRenderer
from dialogs.render.telegram import TelegramRenderer
from dialogs.render.ussd import UssdRenderer
from dialogs.render.web import WebRenderer
from dialogs.render.whatsapp import WhatsAppRenderer

RENDERERS: dict[Medium, Renderer] = {
    renderer.medium: renderer
    for renderer in (
        UssdRenderer(),
        SmsRenderer(),
        WhatsAppRenderer(),
        TelegramRenderer(),
        WebRenderer(),
    )
}


def renderer_for(medium: Medium) -> Renderer:
    return RENDERERS[medium]


__all__ = ["RENDERERS", "Rendered", "Renderer", "renderer_for"]
