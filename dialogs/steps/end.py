"""`end`: the last screen; the conversation closes.

```yaml
- id: done
  type: end
  prompt: "Registered. Your number is {{ submission.reference }}."
```
"""

from __future__ import annotations

from typing import ClassVar, Literal

from dialogs.steps.base import StepBase, StepKind, text_field
from dialogs.text import Text


class EndStep(StepBase):
    """Final message; no answer is expected and nothing follows."""

    kind: ClassVar[StepKind] = "final"
    type: Literal["end"]
    prompt: Text = text_field("The closing message.", required=True)

    def message(self) -> Text | None:
        return self.prompt
