"""`phone`: a phone number, validated by `phonenumbers` and saved in E.164.

```yaml
- id: contact_phone
  type: phone
  prompt: Enter a contact mobile number
  mobile_only: true
```
"""

from __future__ import annotations

from typing import Any, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from pydantic import Field

from dialogs.steps.base import Accepted, InputStep, Parsed, Rejected, StepContext

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class PhoneStep(InputStep):
    """A phone number; numbers without a country code use the region of the service."""

    type: Literal["phone"]
    region: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="Region for numbers typed without +country code (default: the service's).",
    )
    mobile_only: bool = Field(default=True, description="Refuse fixed-line numbers.")

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        region = self.region or ctx.phone_region
        example = _example(region)
        if len(raw) > 40:
            return Rejected("bad_phone", {"example": example})
        try:
            number = phonenumbers.parse(raw.strip(), region)
        except NumberParseException:
            return Rejected("bad_phone", {"example": example})
        if not phonenumbers.is_valid_number(number):
            return Rejected("bad_phone", {"example": example})
        if self.mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
            return Rejected("bad_phone", {"example": example})
        return Accepted(phonenumbers.format_number(number, PhoneNumberFormat.E164))

    def display(self, value: Any, ctx: StepContext) -> str:
        return str(value)

    def max_display_length(self) -> int:
        return 16  # E.164: "+" and at most 15 digits


def _example(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if number is None:
        return "+97517123456"
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
