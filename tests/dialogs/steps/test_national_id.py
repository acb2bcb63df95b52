"""`national_id` steps: 11 ASCII digits, separators ignored."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.steps.base import Accepted, Rejected
from dialogs.steps.national_id import CID_DIGITS, NationalIdStep
from tests.dialogs.helpers import make_step, step_context


def _cid() -> NationalIdStep:
    built = make_step({"id": "cid", "type": "national_id", "prompt": "CID?"})
    assert isinstance(built, NationalIdStep)
    return built


def test_size() -> None:
    assert CID_DIGITS == 11
    assert _cid().max_display_length() == 11


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.lists(st.sampled_from(["", " ", "-", "  "]), min_size=12, max_size=12),
)
def test_separators_anywhere_are_ignored(digits: str, separators: list[str]) -> None:
    typed = "".join(sep + digit for sep, digit in zip(separators, digits, strict=False))
    typed += separators[-1]
    if len(typed) <= 40:
        assert _cid().parse(typed, step_context()) == Accepted(digits)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(max_size=50))
def test_anything_accepted_is_eleven_ascii_digits(raw: str) -> None:
    parsed = _cid().parse(raw, step_context())
    if isinstance(parsed, Accepted):
        assert isinstance(parsed.value, str)
        assert len(parsed.value) == 11
        assert parsed.value.isascii()
        assert parsed.value.isdigit()
    else:
        assert parsed == Rejected("bad_cid")
