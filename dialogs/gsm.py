"""GSM 03.38 character set arithmetic: USSD screen sizes and SMS segment counts.

The codec comes from the `gsm0338` package; extension characters (`{ } [ ] ~ | ^ \\ €`)
encode as an escape plus a character, so they cost two septets, exactly as on the air.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

CODEC = "gsm03.38"
USSD_MAX_SEPTETS = 182
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm(text: str) -> bool:
    """Whether every character of `text` is in the GSM 03.38 basic or extension table."""
    try:
        text.encode(CODEC)
    except UnicodeEncodeError:
        return False
    return True


def septets(text: str) -> int:
    """Length in GSM-7 septets; raises UnicodeEncodeError for non-GSM text."""
    return len(text.encode(CODEC))


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
        if is_gsm(char):
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
