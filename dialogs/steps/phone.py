"""`phone`: a phone number, validated by `phonenumbers` and saved in E.164.

```yaml
- id: contact_phone
  type: phone
  prompt: Enter a contact mobile number
  mobile_only: true
```
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from pydantic import Field

from dialogs.steps.base import Accepted, InputStep, Parsed, Rejected, Rejection, StepContext

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
        found = mobile_number(raw, self.region or ctx.phone_region, mobile_only=self.mobile_only)
        return Accepted(found) if isinstance(found, str) else found

    def display(self, value: Any, ctx: StepContext) -> str:
        return str(value)

    def entity(self) -> str | None:
        return "phone"

    def max_display_length(self) -> int:
        return 16  # E.164: "+" and at most 15 digits

    def rejections(self) -> list[Rejection]:
        return [("bad_phone", {"example": "+" + "9" * 15})]  # the longest number

    def examples(self, ctx: StepContext) -> list[str]:
        return [_example(self.region or ctx.phone_region)]


def mobile_number(raw: str, region: str, *, mobile_only: bool = True) -> str | Rejected:
    """`raw` as an E.164 number (typed without a country code: of `region`), or why not."""
    refused = Rejected("bad_phone", {"example": _example(region)})
    if len(raw) > 40:
        return refused
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except NumberParseException:
        return refused
    if not phonenumbers.is_valid_number(number) or (
        mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        return refused
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@lru_cache(maxsize=64)
def _example(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if number is None:
        return "+97517123456"
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
