"""What crosses into the conversation service: a citizen's message as every webhook hands
it over, and the applicant the effects are performed for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dialogs.media import Medium
from state.store import MESSAGE_TTL_SECONDS


@dataclass(frozen=True, slots=True)
class Message:
    """A citizen's message as every channel adapter hands it over."""

    citizen: str  # E.164 phone number, or the channel's user id where there is no phone
    medium: Medium
    text: str = ""
    choice: str | None = None  # a button or list row id
    message_id: str | None = None  # the provider's id, for idempotency
    session: str = ""  # the channel's session (a USSD session id)
    lang: str | None = None
    service: str | None = None  # a service chosen by the channel (a USSD code per service)
    received: datetime | None = None
    # USSD aggregators such as Africa's Talking send every answer of the session so far,
    # joined by "*": the newest answer is what follows the text received last time.
    accumulated: bool = False
    # How long `message_id` is remembered (the provider's redelivery window, during which
    # a replay is recognised whatever citizen it names); its reply is kept up to 50 h.
    remember: int = MESSAGE_TTL_SECONDS


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who submitted, and where to reach them."""

    citizen: str  # E.164 phone number, or the channel's user id
    medium: Medium
    lang: str
    # The number the citizen holds: the operator's, or one proved by a code (web chat,
    # Telegram); None when none is known yet.
    phone: str | None = None
    opted_out: bool = False  # the number sent STOP: nothing is sent to it
