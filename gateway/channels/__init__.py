"""The registry of channel adapters, one module per provider, by name."""

from __future__ import annotations

from gateway.channels.base import Channel, Received
from gateway.channels.sms_africastalking import AfricasTalkingSms, AfricasTalkingSmsReports
from gateway.channels.sms_twilio import TwilioSms, TwilioStatus
from gateway.channels.telegram import Telegram
from gateway.channels.ussd_africastalking import AfricasTalkingUssd, AfricasTalkingUssdEvents
from gateway.channels.ussd_hubtel import HubtelUssd
from gateway.channels.web import WebChat
from gateway.channels.whatsapp_meta import MetaWhatsApp
from gateway.channels.whatsapp_twilio import TwilioWhatsApp

CHANNELS: dict[str, Channel] = {
    channel.name: channel
    for channel in (
        AfricasTalkingUssd(),
        AfricasTalkingUssdEvents(),
        HubtelUssd(),
        WebChat(),
        TwilioSms(),
        TwilioStatus(),
        TwilioWhatsApp(),
        Telegram(),
        MetaWhatsApp(),
        AfricasTalkingSms(),
        AfricasTalkingSmsReports(),
    )
}
"""Adapter name -> adapter; each is served at POST /channels<path>."""

__all__ = ["CHANNELS", "Channel", "Received"]
