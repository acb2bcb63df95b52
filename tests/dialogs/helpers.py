"""Shared helpers of the dialogs tests: fixed clock, step contexts, small services, a chat.

Not a test module: imported by the tests (and by `tests/conftest.py`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, compile_service
from dialogs.driver import run
from dialogs.engine import act
from dialogs.loader import load_text
from dialogs.media import Medium
from dialogs.messages import (
    Effect,
    EffectResult,
    Inbound,
    LookupRequest,
    LookupResult,
    Meaning,
    Outcome,
    Reply,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
    Understand,
)
from dialogs.problems import has_errors
from dialogs.render import renderer_for
from dialogs.session import Snapshot
from dialogs.steps import Step, StepBase
from dialogs.steps.base import StepContext
from dialogs.text import localise

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 1, 15, 9, 30)
# The number the census fakes hold for their citizen, and the number the tests' citizen
# holds: the registry confirms who applies (an instant certificate) when they match.
CENSUS_MOBILE = "+97517123456"
TODAY: date = NOW.date()

_STEP_ADAPTER: TypeAdapter[Any] = TypeAdapter(Step)


def make_step(data: Mapping[str, Any]) -> StepBase:
    """A step model from its definition mapping (as written in YAML)."""
    parsed = _STEP_ADAPTER.validate_python(dict(data))
    assert isinstance(parsed, StepBase)
    return parsed


def step_context(
    *,
    lang: str = "en",
    today: date = TODAY,
    phone_region: str = "BT",
    answers: Mapping[str, Any] | None = None,
) -> StepContext:
    """The context the engine hands a step, with a fixed date."""
    return StepContext(
        lang=lang,
        today=today,
        phone_region=phone_region,
        answers=dict(answers or {}),
        text=lambda text: localise(text, lang),
    )


def compile_yaml(text: str, lists: dict[str, list[Any]] | None = None) -> CompiledService:
    """Load and compile a definition written inline in a test."""
    loaded = load_text(textwrap.dedent(text), "inline.yaml", lists)
    problems = [p.format() for p in loaded.problems]
    assert loaded.definition is not None, problems
    assert not has_errors(loaded.problems), problems
    return compile_service(loaded.definition)


FISHING_V1 = """
format: 1
id: fishing-permit
version: 1
title: {en: Fishing permit, dz: ཉ་འཛིན་ཆོག་ཐམ}
languages: [en, dz]
help: {en: Service help., dz: ཞབས་ཏོག་གི་རོགས་རམ།}
steps:
  - id: holder
    type: text
    label: Name
    prompt: {en: Your name, dz: ཁྱོད་ཀྱི་མིང}
    help: Type your full name.
    min_length: 2
    max_length: 30
  - id: river
    type: choice
    label: River
    prompt: Which river?
    options: [Mo Chhu, Pho Chhu, Wang Chhu]
    next:
      - if: answers.river == "wang_chhu"
        goto: boat
      - goto: days
  - id: boat
    type: yes_no
    label: Boat
    prompt: Will you use a boat?
  - id: days
    type: number
    label: Days
    prompt: How many days?
    min: 1
    max: 30
  - id: review
    type: summary
    prompt: Check your permit
  - id: done
    type: end
    prompt: "Permit for {{ answers.holder }} on {{ labels.river }}."
"""

FISHING_V2 = """
format: 1
id: fishing-permit
version: 2
title: {en: Fishing permit, dz: ཉ་འཛིན་ཆོག་ཐམ}
languages: [en, dz]
steps:
  - id: licence_no
    type: text
    prompt: Your angler licence number
  - id: holder
    type: text
    prompt: Your name (v2)
  - id: done
    type: end
    prompt: "Version two for {{ answers.holder }}."
"""

PET_LICENCE = """
format: 1
id: pet-licence
version: 1
title: Pet licence
steps:
  - id: cid
    type: national_id
    prompt: Citizenship ID
  - id: owner
    type: lookup
    url: "https://census.example/api/{{ answers.cid }}"
    query: {q: "{{ answers.cid }}"}
    headers: {Authorization: "env:CENSUS_TOKEN"}
    timeout: 2
    fields: [name]
    on_error: owner_name
    next: pet
  - id: owner_name
    type: text
    prompt: Owner name
  - id: pet
    type: text
    label: Pet
    prompt: "{% if answers.owner.name %}Hello {{ answers.owner.name }}. {% endif %}Pet name"
  - id: submit
    type: submit
    mode: review
    reference_prefix: PL
    fields: [cid, pet]
    wait: Saving failed. Reply anything to retry.
  - id: receipt
    type: info
    prompt: "Received {{ submission.reference }}."
  - id: done
    type: end
    prompt: "Reference {{ submission.reference }}"
"""


def small_catalog() -> Catalog:
    """Two small services: the main menu offers both (and a language choice)."""
    return Catalog.of([compile_yaml(FISHING_V1), compile_yaml(PET_LICENCE)])


def screen_text(reply: Reply, channel: Medium) -> str:
    return renderer_for(channel).render(reply).text


class Chat:
    """One citizen's conversation, driven step by step through `dialogs.engine.act`
    (`send`: effects come back as the test says; `run`: performed through the driver)."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        channel: Medium = Medium.SMS,
        conversation_id: str = "conv-1",
        now: datetime = NOW,
        lang: str | None = None,
        phone: str | None = CENSUS_MOBILE,
    ) -> None:
        self.catalog = catalog
        self.channel = channel
        self.phone = phone  # given by the operator, or proved by a code earlier
        self.conversation_id = conversation_id
        self.now = now
        self.lang = lang
        self.snapshot: Snapshot | None = None
        self.last: Outcome | None = None

    def inbound(
        self,
        text: str = "",
        *,
        choice: str | None = None,
        result: EffectResult | None = None,
        service: str | None = None,
    ) -> Inbound:
        return Inbound(
            text=text,
            medium=self.channel,
            now=self.now,
            choice=choice,
            lang=self.lang,
            service=service,
            conversation_id=self.conversation_id,
            result=result,
            phone=self.phone,
        )

    def send(
        self,
        text: str = "",
        *,
        choice: str | None = None,
        result: EffectResult | None = None,
        service: str | None = None,
    ) -> Outcome:
        inbound = self.inbound(text, choice=choice, result=result, service=service)
        outcome = act(self.catalog, self.snapshot, inbound)
        if outcome.effects and isinstance(outcome.effects[0], Understand):
            # As a gateway without a classifier answers: the text means nothing more.
            meaning = Meaning(outcome.effects[0].text)
            outcome = act(self.catalog, outcome.snapshot, self.inbound(result=meaning))
        self.snapshot = outcome.snapshot
        self.last = outcome
        return outcome

    def run(
        self,
        text: str = "",
        perform: Callable[[Effect], EffectResult] | None = None,
        *,
        service: str | None = None,
    ) -> Outcome:
        outcome = run(
            self.catalog,
            self.snapshot,
            self.inbound(text, service=service),
            perform or Perform(),
        )
        self.snapshot = outcome.snapshot
        self.last = outcome
        return outcome

    @property
    def snap(self) -> Snapshot:
        assert self.snapshot is not None
        return self.snapshot

    @property
    def screen(self) -> str:
        """The last screen shown, as the channel renders it."""
        assert self.last is not None
        assert self.last.replies, "no reply was sent"
        return screen_text(self.last.replies[-1], self.channel)


class Perform:
    """A mock of the gateway's effects: registries, the submission store, a classifier
    (`meanings`: text -> what it means; other text means nothing)."""

    def __init__(
        self,
        lookups: Mapping[str, LookupResult] | None = None,
        submission: SubmissionResult | None = None,
        meanings: Mapping[str, Meaning] | None = None,
    ) -> None:
        self.lookups = dict(lookups or {})
        self.meanings = dict(meanings or {})
        self.submission = submission or SubmissionResult(
            ok=True, reference="REF-1", status="issued", link="https://docs.example/REF-1"
        )
        self.performed: list[Effect] = []

    def __call__(self, effect: Effect) -> EffectResult:
        self.performed.append(effect)
        if isinstance(effect, LookupRequest):
            return self.lookups.get(
                effect.step, LookupResult(ok=True, data={"name": "Dorji", "mobile": CENSUS_MOBILE})
            )
        if isinstance(effect, StatusRequest):
            return StatusResult(ok=True)
        if isinstance(effect, Understand):
            return self.meanings.get(effect.text, Meaning(effect.text, source="test"))
        assert isinstance(effect, Submission)
        return self.submission
