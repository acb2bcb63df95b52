"""The providers: one package each, owning both directions: its webhooks (inbound), its
sender (outbound) and how it draws a reply (Meta's interactive messages, Telegram's
keyboard). What several share is in `common`; none imports from another.

`WEBHOOKS`: webhook name -> webhook, each served at POST /channels<path>;
`SENDERS`: sender name -> how to deliver an `Outgoing` through that provider's API.
"""

from __future__ import annotations

from gateway.delivery.outgoing import Sender
from gateway.providers.africastalking import sender as africastalking
from gateway.providers.africastalking.sms import AfricasTalkingSms, AfricasTalkingSmsReports
from gateway.providers.africastalking.ussd import AfricasTalkingUssd, AfricasTalkingUssdEvents
from gateway.providers.base import Webhook
from gateway.providers.hubtel.ussd import HubtelUssd
from gateway.providers.meta import sender as meta
from gateway.providers.meta.whatsapp import MetaWhatsApp
from gateway.providers.telegram import sender as telegram
from gateway.providers.telegram.webhook import Telegram
from gateway.providers.twilio import sender as twilio
from gateway.providers.twilio.sms import TwilioSms, TwilioStatus
from gateway.providers.twilio.whatsapp import TwilioWhatsApp
from gateway.providers.web.chat import WebChat
from gateway.settings import Settings

WEBHOOKS: dict[str, Webhook] = {
    webhook.name: webhook
    for webhook in (
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
"""Webhook name -> webhook; each is served at POST /channels<path>."""

SENDERS: dict[str, Sender] = {
    sender.name: sender
    for sender in (
        telegram.TELEGRAM,
        meta.WHATSAPP,
        africastalking.SMS,
        twilio.SMS,
        twilio.WHATSAPP,
    )
}
"""Sender name -> how to deliver an `Outgoing` through its provider's API."""


def sender_ready(name: str, settings: Settings) -> bool:
    """Whether the sender `name` has the credentials it needs to send anything."""
    sender = SENDERS.get(name)
    return sender is not None and sender.ready(settings)
