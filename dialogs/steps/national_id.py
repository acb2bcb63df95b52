"""`national_id`: Bhutan's citizenship ID (CID), exactly 11 digits.

```yaml
- id: cid
  type: national_id
  prompt: Enter your citizenship ID (11 digits)
```
"""

from __future__ import annotations

import re
from typing import Literal

from dialogs.steps.base import Accepted, InputStep, Parsed, Rejected, Rejection, StepContext

CID_DIGITS = 11


class NationalIdStep(InputStep):
    """An 11-digit citizenship ID; spaces and dashes typed between digits are ignored."""

    type: Literal["national_id"]

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        if len(raw) > 40:
            return Rejected("bad_cid")
        digits = re.sub(r"[\s-]", "", raw)
        if not re.fullmatch(rf"\d{{{CID_DIGITS}}}", digits, flags=re.ASCII):
            return Rejected("bad_cid")
        return Accepted(digits)

    def entity(self) -> str | None:
        return "cid"

    def max_display_length(self) -> int:
        return CID_DIGITS

    def rejections(self) -> list[Rejection]:
        return [("bad_cid", {})]

    def examples(self, ctx: StepContext) -> list[str]:
        return ["11501001234", "115 0100 1234"]
