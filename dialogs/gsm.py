"""GSM 03.38 character set arithmetic: USSD screen sizes and SMS segment counts.

The character tables come from the `gsm0338` package; extension characters
(`{ } [ ] ~ | ^ \\ €`) travel as an escape plus a character, so they cost two septets.
Sizes are computed with set operations rather than the package's pure-Python codec,
which would dominate the engine's step time.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

BASIC = frozenset(unicodedata.lookup(name) for name in BASIC_CHARACTER_SET.values()) - {
    "\x1b"  # ESCAPE is the extension-table prefix, not a character one can send
}
EXTENSION = (
    frozenset(unicodedata.lookup(name) for name in BASIC_CHARACTER_SET_EXTENSION.values())
    - BASIC
    - {"\x1b"}
)
GSM = BASIC | EXTENSION
USSD_MAX_SEPTETS = 182
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm(text: str) -> bool:
    """Whether every character of `text` is in the GSM 03.38 basic or extension table."""
    return GSM.issuperset(text)


def septets(text: str) -> int:
    """Length in GSM-7 septets (non-GSM characters count as one; check `is_gsm` first)."""
    return len(text) + sum(text.count(char) for char in EXTENSION if char in text)


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters of `text` that force UCS-2, in order of appearance."""
    seen: list[str] = []
    for char in text:
        if char not in seen and not is_gsm(char):
            seen.append(char)
    return seen


def to_gsm(text: str) -> str:
    """Best-effort GSM-7 version of `text`: accents dropped, anything else becomes '?'.

    USSD screens are GSM-7 in practice, and a citizen's answer (an emoji, a Tibetan
    letter) echoed back must not turn a screen into UCS-2 and blow its length budget.
    """
    if is_gsm(text):
        return text
    out: list[str] = []
    for char in text:
        if char in GSM:
            out.append(char)
            continue
        stripped = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(stripped if stripped and is_gsm(stripped) else "?")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class SmsSize:
    """How an SMS text travels: its encoding, length in units and number of parts."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def sms_size(text: str) -> SmsSize:
    """Encoding and segment count of one SMS text (single vs concatenated parts)."""
    if is_gsm(text):
        units, single, part, encoding = septets(text), GSM_SINGLE, GSM_PART, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / part)
    return SmsSize(encoding=encoding, units=units, segments=segments)
