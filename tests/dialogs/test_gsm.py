"""GSM 03.38 arithmetic: USSD screen sizes and SMS segments (figures from CHANNELS.md)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.gsm import (
    BASIC,
    EXTENSION,
    GSM_PART,
    GSM_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    USSD_MAX_SEPTETS,
    SmsSize,
    is_gsm,
    non_gsm_characters,
    septets,
    sms_size,
    to_gsm,
)

EXTENSION_CHARACTERS = "\f^{}\\[~]|€"


def test_published_figures() -> None:
    assert USSD_MAX_SEPTETS == 182
    assert (GSM_SINGLE, GSM_PART) == (160, 153)
    assert (UCS2_SINGLE, UCS2_PART) == (70, 67)


def test_tables() -> None:
    # 128 basic characters, minus the escape that introduces the extension table
    assert len(BASIC) == 127
    assert "\x1b" not in BASIC | EXTENSION
    assert set(EXTENSION) == set(EXTENSION_CHARACTERS)
    for char in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./0123456789:;<=>?¡ÄÖÑÜ§¿äöñüà":
        assert char in BASIC, char


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),  # 2 x 153
        ("a" * 307, "GSM-7", 307, 3),
        ("a" * 459, "GSM-7", 459, 3),
        ("a" * 460, "GSM-7", 460, 4),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost 2 septets
        ("€" * 81, "GSM-7", 162, 2),
        ("{}" * 40 + "a", "GSM-7", 161, 2),
        ("ཀ" * 70, "UCS-2", 70, 1),
        ("ཀ" * 71, "UCS-2", 71, 2),
        ("ཀ" * 134, "UCS-2", 134, 2),  # 2 x 67
        ("ཀ" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # a surrogate pair is 2 UTF-16 units
        ("😀" * 36, "UCS-2", 72, 2),
        ("a" * 159 + "ཀ", "UCS-2", 160, 3),  # one non-GSM character makes it all UCS-2
        ("Ça coûte 5€", "UCS-2", 11, 1),  # û is in neither table
    ],
)
def test_sms_size(text: str, encoding: str, units: int, segments: int) -> None:
    assert sms_size(text) == SmsSize(encoding=encoding, units=units, segments=segments)


def test_septets() -> None:
    assert septets("Hello") == 5
    assert septets(EXTENSION_CHARACTERS) == 2 * len(EXTENSION_CHARACTERS)
    assert septets("a[b]c") == 7
    assert septets("a" * 182) == USSD_MAX_SEPTETS


def test_is_gsm_and_non_gsm_characters() -> None:
    assert is_gsm("Café {x} €5 @home")
    assert not is_gsm("Thimphu ཐིམ་ཕུ")
    assert non_gsm_characters("aཀbཀ😀c") == ["ཀ", "😀"]
    assert non_gsm_characters("plain") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thimphu", "Thimphu"),
        ("Café", "Café"),  # é is in the basic table
        ("Zürich", "Zürich"),
        ("São Tomé", "Sao Tomé"),  # ã is not: the accent is dropped
        ("ō", "o"),
        ("ﬁne", "fine"),
        ("😀", "?"),
        ("ཐིམ", "???"),
        ("{[€]}", "{[€]}"),
    ],
)
def test_to_gsm(text: str, expected: str) -> None:
    assert to_gsm(text) == expected


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_to_gsm_always_gives_gsm(text: str) -> None:
    out = to_gsm(text)
    assert is_gsm(out)
    assert sms_size(out).encoding == "GSM-7"
    if is_gsm(text):
        assert out == text


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=600))
def test_segments_follow_the_formula(text: str) -> None:
    size = sms_size(text)
    single, part = (160, 153) if size.encoding == "GSM-7" else (70, 67)
    if size.units <= single:
        assert size.segments == 1
    else:
        assert (size.segments - 1) * part < size.units <= size.segments * part
