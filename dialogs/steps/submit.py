"""`submit`: hand the application over; issue a document now or wait for review.

```yaml
- id: submit
  type: submit
  mode: instant                  # or: review
  reference_prefix: BR
  document:
    title: Certificate of Business Registration
    issuer: Department of Trade
    holder: "{{ answers.citizen.name or answers.applicant_name }}"
    fields: [business_name, business_type, location]
  next: done
```
The engine emits a submission effect with an idempotency key (conversation + step); the
gateway stores it durably and feeds back the reference and document link, which later
steps show as `{{ submission.reference }}` and `{{ submission.link }}`.

An `instant` document is issued only on a path where a registry confirmed the applicant's
identity (a lookup with `confirms_identity`): the checker refuses a definition where it
could be reached otherwise, and the engine sends such an application to an officer
instead. `assurance: self-declared` says the document may rest on what was typed.
Before submitting, a citizen of the web chat or Telegram proves a mobile number by a code.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.steps.base import StepBase, StepId, StepKind, text_field
from dialogs.text import Text


class DocumentDef(BaseModel):
    """The document issued for an application (a certificate or a permit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Text = text_field("Title printed on the document.", required=True)
    issuer: Text = text_field("Issuing authority printed on the document.", required=True)
    holder: str = Field(
        description="The holder's name, a template such as "
        "`{{ answers.citizen.name or answers.applicant_name }}`."
    )
    fields: list[StepId] = Field(
        default_factory=list, description="Steps whose answers are printed on the document."
    )


class ApplicationLimits(BaseModel):
    """Repeated applications: flagged to officers from the second, refused past a limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_id: int = Field(default=3, ge=1, description="Per citizenship ID within `days`.")
    per_phone: int = Field(default=5, ge=1, description="Per phone number within `days`.")
    days: int = Field(default=30, ge=1, le=3650, description="The window counted.")


class SubmitStep(StepBase):
    """Submits the answers; `instant` issues the document, `review` waits for an officer."""

    kind: ClassVar[StepKind] = "effect"
    type: Literal["submit"]
    mode: Literal["instant", "review"] = Field(
        description="`instant`: the document is issued at once. `review`: pending an officer."
    )
    reference_prefix: str = Field(
        pattern=r"^[A-Z]{2,4}$", description="Prefix of references, e.g. BR for BR-2026-000123."
    )
    fields: list[StepId] | None = Field(
        default=None, description="Answers submitted (default: all answers)."
    )
    document: DocumentDef | None = Field(
        default=None, description="Document issued on submission (instant) or on approval."
    )
    wait: Text | None = text_field(
        "Shown if submitting fails for now and the citizen must try again."
    )
    assurance: Literal["registry", "self-declared"] = Field(
        default="registry",
        description="What an `instant` document rests on: `registry` (a lookup with "
        "`confirms_identity` found the applicant on the way here) or `self-declared` "
        "(what the applicant typed is enough).",
    )
    applicant_id: StepId | None = Field(
        default=None,
        description="The step holding the applicant's citizenship ID (default: the first "
        "`national_id` step), to count and flag repeated applications.",
    )
    limits: ApplicationLimits = Field(
        default_factory=lambda: ApplicationLimits(),
        description="How many applications one ID or number may make in a while.",
    )

    def needs_proven_number(self) -> bool:
        return True
