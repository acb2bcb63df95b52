"""Citizens' phone numbers: E.164 or nothing, and which of them the deployment serves.

Operators (USSD, SMS) and WhatsApp give a number that identifies a SIM: it is the
citizen's address, written in E.164 (`+97517123456`). A callback naming anything else (a
local number, `web:<id>`, `telegram:<id>`) is refused, so no request can reach another
channel's citizen. Numbers outside the allowed countries are served nothing: SMS pumping
sends to foreign premium ranges, and a Bhutanese service has no citizens there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers


class NotAPhoneNumberError(ValueError):
    """The address is not a possible E.164 number."""


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str  # +97517123456
    region: str  # ISO 3166 code of a valid number ("BT"); "" when no region has it
    calling_code: int  # 975

    def range(self, digits: int) -> str:
        """The block of numbers this one belongs to: all but its last `digits` digits.
        Pumping fraud uses consecutive numbers of one range."""
        return self.e164[:-digits]

    @property
    def country(self) -> str:
        """The country a budget counts it against: its region, else its calling code."""
        return self.region or f"+{self.calling_code}"


@lru_cache(maxsize=20_000)  # parsing costs ~30 µs; a citizen sends many messages
def phone_number(raw: str) -> PhoneNumber:
    """`raw` (`+975...`, or digits with the country code as WhatsApp writes them) as an
    E.164 number; NotAPhoneNumberError when it cannot be one."""
    text = raw.strip().removeprefix("+")
    # Digits only: phonenumbers would read keypad letters and extensions ("+97517ABC").
    if not (text.isascii() and text.isdigit()) or not 7 <= len(text) <= 15:
        raise NotAPhoneNumberError("not a phone number in E.164")
    try:
        number = phonenumbers.parse("+" + text, None)
    except phonenumbers.NumberParseException as exc:
        raise NotAPhoneNumberError("not a phone number in E.164") from exc
    # Dialable from anywhere: "17123456" (a local Bhutanese number) would otherwise pass
    # as +1 7123456, a number possible only locally in North America.
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise NotAPhoneNumberError("not a possible phone number in E.164")
    region = phonenumbers.region_code_for_number(number) or ""
    if not phonenumbers.is_valid_number(number):
        region = ""  # no operator serves it: no country's citizen either
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164, region, int(number.country_code or 0))


def is_phone_address(address: str) -> bool:
    """Whether a citizen's address is a phone number (not `web:...`, `telegram:...`)."""
    return address.startswith("+")


@dataclass(frozen=True, slots=True)
class Countries:
    """The countries whose numbers the deployment serves (`GATEWAY_ALLOWED_COUNTRIES`)."""

    codes: frozenset[str]

    @classmethod
    def of(cls, codes: list[str]) -> Countries:
        return cls(frozenset(code.upper() for code in codes))

    def serve(self, number: PhoneNumber) -> bool:
        return "*" in self.codes or number.region in self.codes

    def serves_address(self, address: str) -> bool:
        """Whether a citizen's address may be served: any channel user id, or a phone
        number of an allowed country."""
        if not is_phone_address(address):
            return True
        try:
            return self.serve(phone_number(address))
        except NotAPhoneNumberError:
            return False
