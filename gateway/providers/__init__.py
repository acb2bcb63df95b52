"""The providers: one package each, owning its webhook (inbound) and its sender (outbound).

`WEBHOOKS`: adapter name -> webhook adapter, each served at POST /channels<path>;
`SENDERS`: sender name -> how to deliver an `Outgoing` through that provider's API.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.delivery.outgoing import Sender
from gateway.providers.africastalking.sender import send_sms_africastalking
from gateway.providers.africastalking.sms import AfricasTalkingSms, AfricasTalkingSmsReports
from gateway.providers.africastalking.ussd import AfricasTalkingUssd, AfricasTalkingUssdEvents
from gateway.providers.base import Webhook
from gateway.providers.hubtel.ussd import HubtelUssd
from gateway.providers.meta.sender import send_whatsapp_meta
from gateway.providers.meta.whatsapp import MetaWhatsApp
from gateway.providers.telegram.sender import send_telegram
from gateway.providers.telegram.webhook import Telegram
from gateway.providers.twilio.sender import send_sms_twilio, send_whatsapp_twilio
from gateway.providers.twilio.sms import TwilioSms, TwilioStatus
from gateway.providers.twilio.whatsapp import TwilioWhatsApp
from gateway.providers.web.chat import WebChat
from gateway.settings import Settings, secret

WEBHOOKS: dict[str, Webhook] = {
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

SENDERS: dict[str, Sender] = {
    "telegram": send_telegram,
    "whatsapp/meta": send_whatsapp_meta,
    "sms/africastalking": send_sms_africastalking,
    "sms/twilio": send_sms_twilio,
    "whatsapp/twilio": send_whatsapp_twilio,
}
"""Sender name -> how to deliver an `Outgoing` through its API."""


def _twilio(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and secret(settings.twilio_auth_token))


_READY: dict[str, Callable[[Settings], bool]] = {
    "telegram": lambda settings: secret(settings.telegram_bot_token) is not None,
    "whatsapp/meta": lambda settings: bool(
        secret(settings.meta_access_token) and settings.meta_phone_number_id
    ),
    "sms/africastalking": lambda settings: secret(settings.at_api_key) is not None,
    "sms/twilio": _twilio,
    "whatsapp/twilio": _twilio,
}


def sender_ready(name: str, settings: Settings) -> bool:
    """Whether the sender `name` has the credentials it needs to send anything."""
    ready = _READY.get(name)
    return ready is not None and ready(settings)
