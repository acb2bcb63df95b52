"""`lookup`: ask a registry over HTTP and keep (part of) its answer.

```yaml
- id: citizen
  type: lookup
  url: "https://census.example.gov.bt/api/citizens/{{ answers.cid }}"
  timeout: 3
  fields: [name, dzongkhag]      # keep only these keys: snapshots stay small
  on_error: applicant_name        # not found, timeout, registry down
  next: business_name
  confirms_identity: true         # a record found is the applicant's identity confirmed
  registered_phone: mobile        # ... when its `mobile` is the number the citizen holds
```
The engine never calls the registry: it returns a lookup effect that the gateway performs
(and tests mock) and feeds back. Every value inserted into the URL is percent-encoded.

An instant document rests on the identity a registry confirmed (`confirms_identity`),
never on a typed name: the checker refuses an instant submission reachable without it.
With `registered_phone`, the registry's record counts only when the number it holds for
that person is the one the citizen proved (the operator's on USSD, SMS and WhatsApp; a
code's on the web chat and Telegram); otherwise the lookup takes its `on_error` way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import Field

from dialogs.messages import EffectResult, LookupRequest, LookupResult
from dialogs.steps.base import FieldPath, StepId, TemplateKind
from dialogs.steps.effect import Advance, EffectContext, EffectStep, Taken

MAX_TIMEOUT_SECONDS = 30.0


class LookupStep(EffectStep):
    """An HTTP GET or POST to a registry; the JSON reply is saved under the step id."""

    effect_type: ClassVar[type[Any]] = LookupRequest
    any_script: ClassVar[bool] = True  # a registry's data: names in any script
    type: Literal["lookup"]
    method: Literal["GET", "POST"] = Field(default="GET", description="HTTP method.")
    url: str = Field(
        pattern=r"^https?://", description="Registry URL; may insert answers with {{ }}."
    )
    query: dict[str, str] = Field(
        default_factory=dict, description="Query parameters (templates allowed)."
    )
    body: dict[str, str] | None = Field(
        default=None, description="JSON body for POST (templates allowed in values)."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Request headers. A value `env:NAME` is read from the gateway's "
        "environment, so secrets never live in a definition.",
    )
    timeout: float = Field(
        default=3.0, gt=0, le=MAX_TIMEOUT_SECONDS, description="Seconds before giving up."
    )
    fields: list[str] | None = Field(
        default=None, description="Keys of the JSON reply to keep (default: all of them)."
    )
    on_error: StepId = Field(
        description="Step to go to when the registry fails, times out or finds nothing."
    )
    example: dict[str, Any] | None = Field(
        default=None,
        description="A sample reply, used by `gateway simulate` and documentation.",
    )
    confirms_identity: bool = Field(
        default=False,
        description="A record found confirms who the applicant is (a census or an identity "
        "registry): instant documents may rest on it.",
    )
    registered_phone: str | None = Field(
        default=None,
        description="The reply's field holding the mobile number registered to that "
        "identity: the record counts only when it is the number the citizen proved "
        "(otherwise `on_error` is taken). The field is not kept in the answers.",
    )

    def templates(self) -> Iterator[tuple[FieldPath, str, TemplateKind]]:
        yield ("url",), self.url, "url"
        for key, value in self.query.items():
            yield ("query", key), value, "template"
        for key, value in (self.body or {}).items():
            yield ("body", key), value, "template"

    def fails_to(self) -> str | None:
        return self.on_error

    def step_names(self) -> Iterator[tuple[FieldPath, str]]:
        yield ("on_error",), self.on_error

    def request(self, ctx: EffectContext) -> LookupRequest:
        return LookupRequest(
            step=self.id,
            method=self.method,
            url=ctx.render_url(self.url),
            query={key: ctx.render(value) for key, value in self.query.items()},
            body={key: ctx.render(value) for key, value in self.body.items()}
            if self.body is not None
            else None,
            headers=dict(self.headers),
            timeout=self.timeout,
        )

    def take(self, result: EffectResult, ctx: EffectContext) -> Taken | None:
        """The reply kept as the answer; else (not found, failed, or the record of
        someone holding another number) the `on_error` way, the old answer forgotten."""
        if not isinstance(result, LookupResult):
            return None
        kept = self.keep(result.data) if result.ok else None
        found = kept is not None
        if kept is not None and not self.confirms(result.data, ctx.phone):
            kept = None
        if kept is not None and self.registered_phone is not None:
            kept.pop(self.registered_phone, None)  # checked: not kept
        if found and kept is None:  # found, but registered to another number
            return Advance("lookup", {"ok": False, "reason": "identity_mismatch"}, failed=True)
        return Advance("lookup", {"ok": kept is not None}, failed=kept is None, answer=kept)

    def example_result(self) -> EffectResult | None:
        return None if self.example is None else LookupResult(ok=True, data=self.example)

    def needs_proven_number(self) -> bool:
        return self.registered_phone is not None

    def vouches_for_applicant(self) -> bool:
        return self.confirms_identity

    def answer_fields(self) -> frozenset[str] | None:
        if self.fields is None:
            return None  # the whole reply: its keys are the registry's
        return frozenset(self.fields) - {self.registered_phone or ""}  # checked, not kept

    def confirms(self, data: Any, phone: str | None) -> bool:
        """Whether a registry's reply is the citizen's own record: always, unless
        `registered_phone` names a field, whose number must be `phone` (the citizen's)."""
        if self.registered_phone is None:
            return True
        registered = data.get(self.registered_phone) if isinstance(data, dict) else None
        return (
            phone is not None and isinstance(registered, str) and same_number(registered) == phone
        )

    def keep(self, data: Any) -> dict[str, Any] | None:
        """The part of a registry reply saved in the conversation, or None when the reply
        lacks one of `fields` (an empty record is "not found", not a holder without a name).
        """
        data = _clean(data)
        if not isinstance(data, dict):
            return {"value": data} if self.fields is None and data not in (None, "") else None
        if self.fields is None:
            return data
        kept = {key: data.get(key) for key in self.fields}
        if any(value is None or value == "" for value in kept.values()):
            return None
        return kept


def same_number(text: str) -> str:
    """A registry's number in E.164 (`+97517123456`), as registries write it: with or
    without `+`, spaces or dashes. Only digits count."""
    digits = "".join(c for c in text if c.isdigit())
    return "+" + digits if digits else ""


def _clean(value: Any, depth: int = 0) -> Any:
    # Registry data is shown on phones: lone surrogates would break every encoder after,
    # and absurd nesting has no place in a conversation.
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if depth > 8:
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value
