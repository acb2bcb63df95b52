"""The driver: runs the engine until it waits for the citizen, performing effects."""

from __future__ import annotations

import pytest

from dialogs import conversation_tests
from dialogs.catalog import Catalog
from dialogs.driver import EFFECT_TYPES, MAX_EFFECTS, EffectTable, run
from dialogs.media import Medium
from dialogs.messages import (
    Effect,
    EffectResult,
    Inbound,
    LookupRequest,
    LookupResult,
    Submission,
    SubmissionResult,
)
from tests.dialogs.helpers import NOW, PET_LICENCE, Chat, Perform, compile_yaml

LOOPING = """
format: 1
id: looping
version: 1
title: Looping lookups
steps:
  - id: ask
    type: text
    prompt: Anything
  - id: again
    type: lookup
    url: "https://registry.example/again"
    on_error: again
    next: again
  - id: done
    type: end
    prompt: never
"""


def test_effects_are_performed_until_the_next_question() -> None:
    chat = Chat(Catalog.of([compile_yaml(PET_LICENCE)]))
    perform = Perform(lookups={"owner": LookupResult(ok=True, data={"name": "Dorji", "x": 1})})
    chat.run("", perform)
    outcome = chat.run("11512000123", perform)
    assert [type(e) for e in perform.performed] == [LookupRequest]
    assert outcome.effects == tuple(perform.performed)
    assert chat.snap.step == "pet"
    assert chat.snap.answers["owner"] == {"name": "Dorji"}
    assert chat.screen == "Hello Dorji. Pet name"
    assert [e["event"] for e in outcome.events] == ["answered", "lookup"]

    outcome = chat.run("Tashi", perform)
    assert isinstance(perform.performed[-1], Submission)
    assert chat.snap.step == "receipt"
    assert chat.screen.startswith("Received REF-1.")


def test_a_failed_lookup_follows_on_error() -> None:
    chat = Chat(Catalog.of([compile_yaml(PET_LICENCE)]))
    perform = Perform(lookups={"owner": LookupResult(ok=False, error="timeout")})
    chat.run("", perform)
    chat.run("11512000123", perform)
    assert chat.snap.step == "owner_name"
    assert "owner" not in chat.snap.answers
    assert chat.screen == "Owner name"


def test_no_effects_means_one_step() -> None:
    calls: list[Effect] = []

    def perform(effect: Effect) -> EffectResult:
        calls.append(effect)
        return SubmissionResult(ok=True)

    outcome = run(
        Catalog.of([compile_yaml(PET_LICENCE)]),
        None,
        Inbound(text="", medium=Medium.SMS, now=NOW, conversation_id="c"),
        perform,
    )
    assert calls == []
    assert outcome.snapshot.step == "cid"
    assert len(outcome.replies) == 1


def test_a_definition_that_loops_on_lookups_stops() -> None:
    chat = Chat(Catalog.of([compile_yaml(LOOPING)]))
    perform = Perform()
    chat.run("", perform)
    outcome = chat.run("go", perform)
    assert len(perform.performed) == MAX_EFFECTS
    assert all(isinstance(e, LookupRequest) for e in perform.performed)
    assert chat.snap.step == "again"
    assert len(outcome.effects) == MAX_EFFECTS + 1  # the last one is left for the caller


def test_an_effect_table_calls_the_performer_of_the_effects_type() -> None:
    table: EffectTable[[list[str]], EffectResult] = EffectTable()

    @table.on(LookupRequest)
    def lookup(effect: LookupRequest, seen: list[str]) -> EffectResult:
        seen.append(effect.url)
        return LookupResult(ok=True, data={"url": effect.url})

    seen: list[str] = []
    request = LookupRequest("citizen", "GET", "https://registry.example/1", {}, None, {}, 1.0)
    assert table(request, seen) == LookupResult(ok=True, data={"url": request.url})
    assert seen == [request.url]
    assert LookupRequest not in table.missing()
    assert len(table.missing()) == len(EFFECT_TYPES) - 1
    submission = Submission("submit", "svc", 1, "key", "review", "BR", {}, None)
    with pytest.raises(TypeError, match="no performer for Submission"):
        table(submission, seen)


def test_conversation_tests_perform_every_effect() -> None:
    assert conversation_tests.PERFORMERS.missing() == []
