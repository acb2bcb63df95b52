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

An application that goes to an officer is acknowledged before the next step: the
reference, what happens next and how to follow it (`acknowledgement`, default the
built-in `review_received`, left out when the next step shows the submission, such as
`{{ submission.reference }}`).
The permit comes with the officer's approval, by message.

An `instant` document is issued only on a path where a registry confirmed the applicant's
identity (a lookup with `confirms_identity`): the checker refuses a definition where it
could be reached otherwise, and the engine sends such an application to an officer
instead. `assurance: self-declared` says the document may rest on what was typed.
Before submitting, a citizen of the web chat or Telegram proves a mobile number by a code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.messages import EffectResult, RepeatLimits, Submission, SubmissionResult
from dialogs.steps.base import FieldPath, StepId, TemplateKind, text_field
from dialogs.steps.effect import Advance, EffectContext, EffectStep, Halt, Taken
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


class ReviewDef(BaseModel):
    """How officers review applications (`review`): the time they aim to decide within,
    and the reasons they pick from to reject one (and may edit before sending)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: float = Field(
        default=5,
        gt=0,
        le=365,
        description="Target time to decide, in days; older applications show as overdue.",
    )
    reasons: list[Text] = Field(
        default_factory=list,
        description="Reasons to reject, offered to officers; the citizen is sent the one "
        "chosen, as the officer leaves it.",
    )


SUBMISSION_FIELDS = frozenset({"reference", "status", "link", "held"})
"""What later steps read as `submission.<field>` (see `take`)."""


class SubmitStep(EffectStep):
    """Submits the answers; `instant` issues the document, `review` waits for an officer."""

    effect_type: ClassVar[type[Any]] = Submission
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
    acknowledgement: Text | None = text_field(
        "Said when the application goes to an officer (`review`), before the next step: "
        "its reference, what happens next, how to follow it. Default: the built-in text "
        "`review_received`, said only when the next step does not show the submission "
        "(`{{ submission.reference }}`...) itself."
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
    review: ReviewDef = Field(
        default_factory=lambda: ReviewDef(),
        description="How officers review applications sent to them (`review`, or an "
        "`instant` one whose applicant no registry confirmed).",
    )

    def every_text(self) -> Iterator[tuple[FieldPath, Text]]:
        yield from super().every_text()
        for index, reason in enumerate(self.review.reasons):
            yield ("review", "reasons", index), reason
        if self.document is not None:
            yield ("document", "title"), self.document.title
            yield ("document", "issuer"), self.document.issuer

    def templates(self) -> Iterator[tuple[FieldPath, str, TemplateKind]]:
        if self.document is not None:
            yield ("document", "holder"), self.document.holder, "template"

    def step_names(self) -> Iterator[tuple[FieldPath, str]]:
        for index, name in enumerate(self.fields or []):
            yield ("fields", index), name
        yield from self.shown_answers()

    def shown_answers(self) -> Iterator[tuple[FieldPath, str]]:
        if self.document is not None:
            for index, name in enumerate(self.document.fields):
                yield ("document", "fields", index), name

    def answer_is_saved(self) -> bool:
        return False  # its result is `submission`, not an answer

    def needs_proven_number(self) -> bool:
        return True

    def needs_confirmed_applicant(self) -> bool:
        return self.mode == "instant" and self.assurance == "registry"

    def submission_fields(self) -> frozenset[str] | None:
        if self.mode == "review" or self.document is None:
            # No document is issued now: `link` is None (and would print "None").
            return SUBMISSION_FIELDS - {"link"}
        return SUBMISSION_FIELDS

    def request(self, ctx: EffectContext) -> Submission:
        given = ctx.answers_on_path()
        submitted = given
        if self.fields is not None:
            submitted = {k: v for k, v in given.items() if k in self.fields}
        # An instant document rests on a registry's word for who applies (the checker
        # refuses definitions that could get here without it): otherwise, an officer.
        confirmed = ctx.applicant_confirmed()
        mode = self.mode
        flags: tuple[str, ...] = ()
        if self.needs_confirmed_applicant() and not confirmed:
            mode, flags = "review", ("identity_unconfirmed",)
        return Submission(
            step=self.id,
            service=ctx.service_id,
            version=ctx.version,
            idempotency_key=f"{ctx.run_key}:{self.id}",
            mode=mode,
            reference_prefix=self.reference_prefix,
            answers=dict(submitted),
            document=self._document(ctx, given),
            applicant_id=self._applicant_id(ctx, given),
            phone=ctx.phone,
            assurance="registry" if confirmed else "self-declared",
            flags=flags,
            limits=RepeatLimits(self.limits.per_id, self.limits.per_phone, self.limits.days),
            amends=ctx.amends,
        )

    def _document(self, ctx: EffectContext, given: Mapping[str, Any]) -> dict[str, Any] | None:
        doc = self.document
        if doc is None:
            return None
        return {
            "title": ctx.text(doc.title),
            "issuer": ctx.text(doc.issuer),
            "holder": ctx.text(doc.holder),
            "fields": [
                {"label": ctx.label(name), "value": ctx.display(name)}
                for name in doc.fields
                if name in given
            ],
        }

    def _applicant_id(self, ctx: EffectContext, given: Mapping[str, Any]) -> str | None:
        """The applicant's citizenship ID: the `applicant_id` step's answer, else the
        first answered step that asks for one."""
        if self.applicant_id is not None:
            value = given.get(self.applicant_id)
        else:
            value = ctx.answer_for("cid")
        return str(value) if value is not None else None

    def take(self, result: EffectResult, ctx: EffectContext) -> Taken | None:
        if not isinstance(result, SubmissionResult):
            return None
        if result.refused:  # too many applications lately: trying again cannot help
            details = {"reason": result.refused}
            return Halt("submit_refused", details, builtin="application_limit", end=True)
        if not result.ok:  # the citizen tries again later: the step waits
            return Halt("submit_failed", text=self.wait)
        stored: dict[str, Any] = {
            "reference": result.reference,
            "status": result.status,
            "link": result.link,
        }
        if result.held:
            stored["held"] = True
        details = {"reference": result.reference}
        if result.status != "pending":  # issued at once: the next step shows the document
            return Advance("submitted", details, submission=stored)
        # Gone to an officer: the citizen learns the reference and how to follow it.
        return Advance(
            "submitted",
            details,
            submission=stored,
            text=self.acknowledgement,
            builtin="review_received",
        )
