"""What the engine makes of a `Meaning`: which service, which answers given up front.

Pure helpers; the conversation moves (start, offer, confirm) are in `dialogs.engine`.
"""

from __future__ import annotations

from collections.abc import Iterable

from dialogs.builtin_texts import NO_WORDS, YES_WORDS
from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.messages import CONFIDENT, UNSURE, Entity, Meaning


def wanted_service(catalog: Catalog, meaning: Meaning) -> CompiledService | None:
    """The published service the citizen asked for, if any (at least UNSURE)."""
    if meaning.intent is None or meaning.confidence < UNSURE:
        return None
    return catalog.get(meaning.intent)


def is_sure(meaning: Meaning) -> bool:
    return meaning.intent is not None and meaning.confidence >= CONFIDENT


def asks(meaning: Meaning, intent: str, *, sure: bool = False) -> bool:
    """Whether the citizen asked for `intent` (confidently, when `sure`)."""
    least = CONFIDENT if sure else UNSURE
    return meaning.intent == intent and meaning.confidence >= least


def prefill_for(service: CompiledService, entities: Iterable[Entity]) -> dict[str, str]:
    """Answers named up front, by the first step each kind of entity can answer."""
    prefill: dict[str, str] = {}
    for entity in entities:
        for step in service.definition.step_list:
            if step.entity() == entity.kind and step.answer_is_saved() and step.id not in prefill:
                prefill[step.id] = entity.value
                break
    return prefill


def yes_or_no(raw: str, meaning: Meaning | None = None) -> bool | None:
    """True for yes ("1", yes words, an affirmation), False for no, None otherwise."""
    word = raw.strip().casefold().rstrip(".!")
    if word == "1" or word in YES_WORDS:
        return True
    if word == "2" or word in NO_WORDS:
        return False
    if meaning is not None and asks(meaning, "affirm"):
        return True
    if meaning is not None and asks(meaning, "deny"):
        return False
    return None
