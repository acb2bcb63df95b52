"""What each channel can show: the limits the engine pages replies to fit."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.gsm import USSD_MAX_SEPTETS

MORE_KEY, BACK_KEY = "98", "0"


@dataclass(frozen=True, slots=True)
class ChannelProfile:
    """Screen limits of a channel. None means no limit of that kind."""

    name: str
    max_septets: int | None = None  # a USSD screen: 182 GSM-7 characters
    max_segments: int | None = None  # page an SMS reply beyond this many parts
    max_options: int | None = None  # options per message, navigation rows included
    unicode: bool = True  # can carry non-GSM text (Dzongkha); USSD in practice cannot
    show_back: bool = False  # print "0 Back" on menus
    free_text: bool = True  # citizens write sentences (intent detection); USSD: keypad only
    # The operator (or WhatsApp) gives the citizen's number; elsewhere (web chat,
    # Telegram) a number is proved by a code before a registry or a submission relies on it.
    proves_number: bool = True


PROFILES: dict[str, ChannelProfile] = {
    profile.name: profile
    for profile in (
        ChannelProfile(
            "ussd", max_septets=USSD_MAX_SEPTETS, unicode=False, show_back=True, free_text=False
        ),
        ChannelProfile("sms", max_segments=3),
        ChannelProfile("whatsapp", max_options=10),
        ChannelProfile("telegram", max_options=24, proves_number=False),
        ChannelProfile("web", proves_number=False),
    )
}
"""Channel name -> its profile."""


def profile_for(channel: str) -> ChannelProfile:
    """The profile of a channel; unknown channels get the strictest text profile (SMS)."""
    return PROFILES.get(channel, PROFILES["sms"])
