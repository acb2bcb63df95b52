"""`phone` steps: Bhutan's mobile ranges and E.164 output."""

from __future__ import annotations

import pytest

from dialogs.steps.base import Accepted, Rejected
from dialogs.steps.phone import PhoneStep
from tests.dialogs.helpers import make_step, step_context


def _phone(**fields: object) -> PhoneStep:
    built = make_step({"id": "phone", "type": "phone", "prompt": "Mobile?", **fields})
    assert isinstance(built, PhoneStep)
    return built


@pytest.mark.parametrize("prefix", ["17", "77"])
def test_bhutan_mobile_ranges(prefix: str) -> None:
    number = f"{prefix}654321"
    assert _phone().parse(number, step_context()) == Accepted(f"+975{number}")


def test_output_is_e164() -> None:
    for typed in ("+975 17 65 43 21", "00975-17-65-43-21", "(17) 654 321"):
        parsed = _phone().parse(typed, step_context())
        assert parsed == Accepted("+97517654321"), typed


def test_fixed_line_refused_unless_allowed() -> None:
    fixed = "+975 2 322 345"
    assert _phone().parse(fixed, step_context()) == Rejected(
        "bad_phone", {"example": "17 12 34 56"}
    )
    assert _phone(mobile_only=False).parse(fixed, step_context()) == Accepted("+9752322345")


def test_region_decides_numbers_without_country_code() -> None:
    assert _phone().parse("9876543210", step_context(phone_region="IN")) == Accepted(
        "+919876543210"
    )
    # the step's region wins over the service's
    assert _phone(region="BT").parse("17654321", step_context(phone_region="IN")) == Accepted(
        "+97517654321"
    )


def test_display_and_size() -> None:
    assert _phone().display("+97517654321", step_context()) == "+97517654321"
    assert _phone().max_display_length() == 16
