"""Property tests: any sequence of answers, on any channel, in any service of `services/`.

Nothing a citizen types may crash the engine, and every screen must fit its channel. The
registries answer lookups alternately ok and failed; submissions succeed.
"""

from __future__ import annotations

import math
import zlib
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.driver import run
from dialogs.gsm import USSD_MAX_SEPTETS, is_gsm, septets, sms_size
from dialogs.media import PROFILES, Medium
from dialogs.messages import (
    BUILTIN_INTENTS,
    CheckCode,
    CodeChecked,
    CodeSent,
    Effect,
    EffectResult,
    Entity,
    Inbound,
    LookupRequest,
    LookupResult,
    Meaning,
    Reply,
    SendCode,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
    Understand,
)
from dialogs.render import RENDERERS
from dialogs.session import Snapshot
from dialogs.steps.choice import ChoiceStep
from dialogs.steps.date import DateStep, resolve_bound
from dialogs.steps.lookup import LookupStep
from dialogs.steps.national_id import NationalIdStep
from dialogs.steps.number import NumberStep
from dialogs.steps.phone import PhoneStep
from dialogs.steps.summary import SummaryStep
from dialogs.steps.text import TextStep
from dialogs.steps.yes_no import YesNoStep
from gateway.catalog.repository import Repository, definition_files
from gateway.providers.meta.interactive import interactive
from gateway.providers.telegram.keyboard import inline_keyboard
from tests.dialogs.helpers import NOW, SERVICES_DIR, TODAY

SERVICE_FILES = [path.name for path in definition_files([SERVICES_DIR])]

COMMAND_WORDS = ["0", "00", "98", "back", "menu", "more", "help", "?", "restart", "stop", "cancel"]
TYPICAL = [
    "",
    " ",
    "1",
    "2",
    "3",
    "4",
    "14",
    "20",
    "99",
    "yes",
    "no",
    "ok",
    "11512000123",
    "115 1200 0123",
    "17123456",
    "+97577123456",
    "15/02/2026",
    "01/01/1990",
    "31/02/2026",
    "today",
    "12",
    "1,500",
    "-5",
    "Pema Wangmo",
    "thimpu",
    "Thimphu",
    "ཐིམ་ཕུ་",
    "ཨིན།",
    "{{ 7*7 }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "'; DROP TABLE x;--",
    "\x00\x1b[31m\r\n",
    "😀" * 30,
]

answers = st.one_of(
    st.sampled_from(COMMAND_WORDS + TYPICAL),
    st.text(max_size=50),  # any code point but surrogates: emoji, control characters...
    st.from_regex(r"[0-9 ]{1,14}", fullmatch=True),
    st.integers(min_value=0, max_value=120).map(str),
    st.sampled_from(["x" * 10_000, "ཀ" * 10_000, "9" * 10_000, "😀 " * 5_000]),
)


def _service(repository: Repository, file: str) -> CompiledService:
    loaded = next(item for item in repository.loaded if item.file.endswith(file))
    assert loaded.definition is not None, [p.format() for p in loaded.problems]
    service = repository.catalog.get(loaded.definition.id)
    assert service is not None, [p.format() for p in loaded.problems]
    return service


CODE = "123456"  # the code every verification SMS carries here


class Registries:
    """Lookups answered ok and failed in turn (ok with the step's example); submissions ok;
    verification codes sent, and `CODE` is right."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.calls = 0
        self.snapshot: Snapshot | None = None

    def __call__(self, effect: Effect) -> EffectResult:
        if isinstance(effect, Understand):
            return self._meaning(effect.text)
        if isinstance(effect, Submission):
            number = f"{effect.reference_prefix}-2026-{self.calls:06d}"
            return SubmissionResult(ok=True, reference=number, status="issued", link=None)
        if isinstance(effect, StatusRequest):
            return StatusResult(ok=True)
        if isinstance(effect, SendCode):
            return CodeSent(ok=True)
        if isinstance(effect, CheckCode):
            right = effect.code == CODE
            return CodeChecked(ok=right, reason="" if right else "wrong", tries_left=2)
        assert isinstance(effect, LookupRequest)
        self.calls += 1
        if self.calls % 2 == 0:
            return LookupResult(ok=False, error="timeout")
        return LookupResult(ok=True, data=self._example(effect.step))

    def _meaning(self, text: str) -> Meaning:
        """Any meaning at any confidence, chosen by the text: every offer and switch the
        engine can make gets exercised."""
        intents = [None, *(s.id for s in self.catalog.menu()), *BUILTIN_INTENTS]
        digest = zlib.crc32(text.encode())
        intent = intents[digest % len(intents)]
        confidence = (0.3, 0.6, 0.9)[digest // len(intents) % 3]
        entities = (Entity("cid", "11512000123"), Entity("dzongkhags", "paro"))
        return Meaning(text, intent, confidence, (), entities[: digest % 3], "test")

    def _example(self, name: str) -> Any:
        for service in self.catalog.menu():
            found = service.steps.get(name)
            if isinstance(found, LookupStep) and found.example is not None:
                return found.example
        return {"name": "Pema Wangmo"}


def _check_screen(reply: Reply, channel: Medium) -> None:
    profile = PROFILES[channel]
    rendered = RENDERERS[channel].render(reply)
    if channel == "ussd":
        assert is_gsm(rendered.text), rendered.text
        assert septets(rendered.text) <= USSD_MAX_SEPTETS, rendered.text
    if channel == "sms":
        assert profile.max_segments is not None
        assert sms_size(rendered.text).segments <= profile.max_segments, rendered.text
    if profile.max_options is not None:
        assert len(reply.options) <= profile.max_options, reply
    # Buttons, lists and keyboards are drawn by the providers that send them.
    drawn = interactive(reply) if channel == "whatsapp" else None
    if drawn is not None:
        if drawn["type"] == "button":
            titles = [b["reply"]["title"] for b in drawn["action"]["buttons"]]
            assert len(titles) <= 3
            assert all(len(t) <= 20 for t in titles)
        else:
            rows = drawn["action"]["sections"][0]["rows"]
            assert len(rows) <= 10
            assert all(len(r["title"]) <= 24 for r in rows)
    keyboard = inline_keyboard(reply) if channel == "telegram" else None
    if keyboard is not None:
        for row in keyboard["inline_keyboard"]:
            assert len(row[0]["callback_data"].encode()) <= 64
    assert rendered.text.strip(), reply


_GOOD: dict[tuple[Any, ...], st.SearchStrategy[str]] = {}


def _good_answers(catalog: Catalog, snapshot: Snapshot | None) -> st.SearchStrategy[str]:
    """Answers the current screen accepts, so that conversations get past their first steps."""
    key = (
        id(catalog),
        (snapshot.service, snapshot.version, snapshot.step, snapshot.mode, snapshot.ended)
        if snapshot
        else None,
    )
    strategy = _GOOD.get(key)
    if strategy is None:
        strategy = _GOOD[key] = _good_for(catalog, snapshot)
    return strategy


def _good_for(catalog: Catalog, snapshot: Snapshot | None) -> st.SearchStrategy[str]:
    if snapshot is None or snapshot.ended:
        return st.just("hi")
    if snapshot.service is None:
        return st.integers(min_value=1, max_value=len(catalog.menu()) + 1).map(str)
    if snapshot.mode == "phone":  # a number to prove (web chat, Telegram)
        return st.sampled_from(["17123456", "+97577123456"])
    if snapshot.mode == "code":
        return st.sampled_from([CODE, CODE, CODE, "1", "000000"])
    service = catalog.get(snapshot.service, snapshot.version)
    current = service.steps.get(snapshot.step) if service else None
    if service is None or current is None:
        return st.just("1")
    if isinstance(current, SummaryStep):
        if snapshot.mode == "edit":
            fields = service.edit_targets.get(current.id, ())
            return st.integers(min_value=1, max_value=max(1, len(fields))).map(str)
        return st.sampled_from(["1", "1", "1", "2"])
    if isinstance(current, ChoiceStep):
        return st.integers(min_value=1, max_value=len(current.options)).map(str)
    if isinstance(current, YesNoStep):
        return st.sampled_from(["1", "1", "2", "yes", "no"])
    if isinstance(current, NationalIdStep):
        return st.sampled_from(["11512000123", "115 1200 0124"])
    if isinstance(current, PhoneStep):
        return st.sampled_from(["17123456", "+975 77 12 34 56"])
    if isinstance(current, NumberStep):
        low = math.ceil(current.min) if current.min is not None else 0
        high = math.floor(current.max) if current.max is not None else 10**6
        return st.integers(min_value=low, max_value=max(low, high)).map(str)
    if isinstance(current, DateStep):
        first = resolve_bound(current.min, TODAY) if current.min else date(1950, 1, 1)
        last = resolve_bound(current.max, TODAY) if current.max else date(2030, 12, 31)
        return st.dates(min_value=first, max_value=max(first, last)).map(current.example)
    if isinstance(current, TextStep):
        if current.pattern is None:
            return st.sampled_from(["Pema Wangmo", "Druk Tshongkhang", "x" * current.max_length])
        return st.from_regex(current.pattern, fullmatch=True).filter(
            lambda text: 0 < len(text) <= current.max_length and text == " ".join(text.split())
        )
    return st.just("ok")


@pytest.mark.parametrize("channel", sorted(PROFILES))
@pytest.mark.parametrize("file", SERVICE_FILES)
def test_random_answers_never_crash_and_always_fit(
    repository: Repository, file: str, channel: Medium
) -> None:
    service = _service(repository, file)
    catalog = repository.catalog
    reached: set[str] = set()

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
    )
    @given(lang=st.sampled_from([None, "dz"]), turns=st.integers(1, 40), data=st.data())
    def conversation(lang: str | None, turns: int, data: st.DataObject) -> None:
        registries = Registries(catalog)
        snapshot: Snapshot | None = None
        for index in range(turns + 1):
            if index == 0:
                text = ""
            elif data.draw(st.integers(0, 9), label="kind") < 7:
                text = data.draw(_good_answers(catalog, snapshot), label="good answer")
            else:
                text = data.draw(answers, label="any answer")
            inbound = Inbound(
                text=text,
                medium=channel,
                now=NOW,
                lang=lang,
                service=service.id if index == 0 else None,
                conversation_id="prop-1",
            )
            outcome = run(catalog, snapshot, inbound, registries)
            assert outcome.replies, f"no reply to {text!r} at {snapshot}"
            for reply in outcome.replies:
                _check_screen(reply, channel)
            snapshot = outcome.snapshot
            assert Snapshot.from_json(snapshot.to_json()) == snapshot
            if snapshot.service == service.id:
                reached.add(snapshot.step)

    conversation()
    # the answers must reach deep into the service, not stop at its first question
    effects = [name for name, s in service.steps.items() if s.kind == "effect"]
    summaries = [name for name, s in service.steps.items() if isinstance(s, SummaryStep)]
    assert set(summaries) <= reached, sorted(reached)
    finals = {name for name, s in service.steps.items() if s.kind == "final"}
    assert reached & finals, sorted(reached)
    assert effects  # every service here performs at least one effect


def test_every_service_file_is_exercised() -> None:
    assert "business-registration.yaml" in SERVICE_FILES
    assert not any(name.endswith(".tests.yaml") for name in SERVICE_FILES)
