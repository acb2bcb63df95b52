"""`email`: an e-mail address; saved with its domain in lower case.

```yaml
- id: contact_email
  type: email
  prompt: Your e-mail address, for the certificate
  label: E-mail
```
Spaces around the address are ignored; the part before `@` is kept as typed. An address
is at most 254 characters, its part before `@` at most 64, and its domain must have a dot
(`name@example.bt`). Only Latin letters, digits and signs such as `.+-_'` are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, Literal

from dialogs.steps.base import Accepted, InputStep, Parsed, Rejected, Rejection, StepContext

MAX_LENGTH = 254  # RFC 5321: the longest path a mail server must accept, less "<>"
MAX_LOCAL = 64
BAD_EMAIL = "bad_email"

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})", re.ASCII)


class EmailStep(InputStep):
    """An e-mail address, checked for its shape (not that it exists)."""

    builtin_texts: ClassVar[Mapping[str, dict[str, str]]] = {
        BAD_EMAIL: {"en": "Please enter an e-mail address, e.g. pema@example.bt."},
    }
    type: Literal["email"]

    def parse(self, raw: str, ctx: StepContext) -> Parsed:
        text = raw.strip()
        match = _ADDRESS.fullmatch(text) if len(text) <= MAX_LENGTH else None
        if match is None or len(match.group(1)) > MAX_LOCAL:
            return Rejected(BAD_EMAIL)
        local, domain = match.groups()
        return Accepted(f"{local}@{domain.lower()}")

    def max_display_length(self) -> int:
        return MAX_LENGTH

    def rejections(self) -> list[Rejection]:
        return [(BAD_EMAIL, {})]

    def examples(self, ctx: StepContext) -> list[str]:
        return ["pema.wangmo@example.bt", "Pema@Example.BT"]
