"""The registry of senders: channel name -> how to deliver an `Outgoing` through its API."""

from __future__ import annotations

from gateway.senders.base import Outgoing, SendContext, Sender, SendError
from gateway.senders.sms_africastalking import send_sms_africastalking
from gateway.senders.sms_twilio import send_sms_twilio, send_whatsapp_twilio
from gateway.senders.telegram import send_telegram
from gateway.senders.whatsapp_meta import send_whatsapp_meta

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

__all__ = ["SENDERS", "Outgoing", "SendContext", "SendError", "Sender"]
