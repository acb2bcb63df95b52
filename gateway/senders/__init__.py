"""The registry of senders: channel name -> how to deliver an `Outgoing` through its API."""

from __future__ import annotations

from collections.abc import Callable

from gateway.senders.base import Outgoing, SendContext, Sender, SendError
from gateway.senders.sms_africastalking import send_sms_africastalking
from gateway.senders.sms_twilio import send_sms_twilio, send_whatsapp_twilio
from gateway.senders.telegram import send_telegram
from gateway.senders.whatsapp_meta import send_whatsapp_meta
from gateway.settings import Settings, secret

SENDERS: dict[str, Sender] = {}
"""Channel name -> sender. Each sender module adds itself in the tuple below."""

_MODULES: tuple[tuple[str, Sender], ...] = (
    ("telegram", send_telegram),
    ("whatsapp/meta", send_whatsapp_meta),
    ("sms/africastalking", send_sms_africastalking),
    ("sms/twilio", send_sms_twilio),
    ("whatsapp/twilio", send_whatsapp_twilio),
)

SENDERS.update(dict(_MODULES))


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


__all__ = ["SENDERS", "Outgoing", "SendContext", "SendError", "Sender", "sender_ready"]
