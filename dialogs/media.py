"""The media a citizen reaches the gateway by, and what each can show.

A medium (USSD, SMS, WhatsApp, Telegram, web chat) is not a provider: Africa's Talking and
Hubtel both carry USSD, Meta and Twilio both carry WhatsApp. The engine pages replies to
fit the medium's profile; providers only translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialogs.gsm import USSD_MAX_SEPTETS

MORE_KEY, BACK_KEY = "98", "0"


class Medium(StrEnum):
    """How a citizen reaches the gateway. `Medium("fax")` is a ValueError: an unknown
    medium is an error, never taken for another."""

    USSD = "ussd"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class ChoiceLimits:
    """What a medium's reply buttons and choice lists hold. A provider that draws them
    (Meta's interactive messages) keeps to these; the checker warns a service's author
    about labels that would not fit."""

    buttons: int  # reply buttons on one message
    button_title: int  # characters of a button's title
    rows: int  # rows of one list
    row_title: int  # characters of a row's title (longer ones are cut)
    row_description: int  # characters of the line under a row's title
    body: int  # characters of the text of a message that carries buttons or a list


WHATSAPP_CHOICES = ChoiceLimits(
    buttons=3, button_title=20, rows=10, row_title=24, row_description=72, body=1024
)
"""WhatsApp's reply buttons and lists, as Meta's Cloud API documents them."""


@dataclass(frozen=True, slots=True)
class MediumProfile:
    """Screen limits of a medium. None means no limit of that kind."""

    medium: Medium
    max_septets: int | None = None  # a USSD screen: 182 GSM-7 characters
    max_segments: int | None = None  # page an SMS reply beyond this many parts
    max_options: int | None = None  # options per message, navigation rows included
    unicode: bool = True  # can carry non-GSM text (Dzongkha); USSD in practice cannot
    show_back: bool = False  # print "0 Back" on menus
    free_text: bool = True  # citizens write sentences (intent detection); USSD: keypad only
    # The operator (or WhatsApp) gives the citizen's number; elsewhere (web chat,
    # Telegram) a number is proved by a code before a registry or a submission relies on it.
    proves_number: bool = True
    choices: ChoiceLimits | None = None  # buttons and lists, where the medium has them


PROFILES: dict[Medium, MediumProfile] = {
    profile.medium: profile
    for profile in (
        MediumProfile(
            Medium.USSD,
            max_septets=USSD_MAX_SEPTETS,
            unicode=False,
            show_back=True,
            free_text=False,
        ),
        MediumProfile(Medium.SMS, max_segments=3),
        MediumProfile(Medium.WHATSAPP, max_options=WHATSAPP_CHOICES.rows, choices=WHATSAPP_CHOICES),
        MediumProfile(Medium.TELEGRAM, max_options=24, proves_number=False),
        MediumProfile(Medium.WEB, proves_number=False),
    )
}
"""Medium -> its profile."""
