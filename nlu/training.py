"""Training data for every classifier, taken from the service definitions.

One intent per service (its keywords and example phrases, per language), the built-in
intents (`nlu/builtin_intents.yaml` plus the catalog's command words), the shared lists
(districts, activities...) as entity values with their labels as synonyms, and patterns
for citizenship IDs and phone numbers. The embedded classifier and the Rasa export both
read this, so they are trained from the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from dialogs.catalog import Catalog
from dialogs.messages import BUILTIN_INTENTS
from dialogs.text import Text

# Bhutanese citizenship IDs have 11 digits; mobile numbers 8 digits starting 17 or 77,
# optionally after the country code 975.
PATTERNS: dict[str, str] = {
    "cid": r"\b\d{11}\b",
    "phone": r"(?<!\d)(?:\+?975[ -]?)?(?:17|77)\d{6}(?!\d)",
}


@dataclass(frozen=True)
class IntentData:
    """Example phrases and keywords of one intent, per language."""

    intent: str
    examples: dict[str, list[str]] = field(default_factory=dict)
    keywords: dict[str, list[str]] = field(default_factory=dict)

    def phrases(self) -> list[tuple[str, str]]:
        """Every (language, phrase), examples and keywords alike."""
        found: list[tuple[str, str]] = []
        for source in (self.examples, self.keywords):
            for lang, texts in source.items():
                found += [(lang, text) for text in texts]
        return found


@dataclass(frozen=True)
class EntityList:
    """A shared list as an entity: option value -> the names citizens may use for it."""

    name: str
    values: dict[str, list[str]]


@dataclass(frozen=True)
class TrainingData:
    intents: list[IntentData]
    lists: list[EntityList]
    patterns: dict[str, str] = field(default_factory=lambda: dict(PATTERNS))

    def intent(self, name: str) -> IntentData | None:
        return next((item for item in self.intents if item.intent == name), None)


def builtin_examples() -> dict[str, dict[str, list[str]]]:
    """`nlu/builtin_intents.yaml`: intent -> language -> example phrases."""
    text = resources.files("nlu").joinpath("builtin_intents.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, list[str]]] = yaml.safe_load(text) or {}
    return data


def training_data(catalog: Catalog) -> TrainingData:
    """Everything a classifier learns from, for the published services of `catalog`."""
    intents = [
        IntentData(
            service.id,
            examples=_merge(service.definition.examples, _texts(service.definition.title)),
            keywords={lang: list(words) for lang, words in service.definition.keywords.items()},
        )
        for service in catalog.menu()
    ]
    builtin = builtin_examples()
    commands = catalog.commands
    words = {
        "help": commands.help,
        "status": commands.status,
        "stop": commands.stop,
        "menu": commands.menu,
    }
    for name in BUILTIN_INTENTS:
        keywords = [w for w in words.get(name, []) if not w.isdigit() and len(w) > 1]
        intents.append(IntentData(name, examples=builtin.get(name, {}), keywords={"": keywords}))
    return TrainingData(intents, _lists(catalog))


def _texts(text: Text | None) -> dict[str, list[str]]:
    if text is None:
        return {}
    if isinstance(text, str):
        return {"en": [text]}
    return {lang: [value] for lang, value in text.items()}


def _merge(*sources: dict[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for source in sources:
        for lang, texts in source.items():
            merged.setdefault(lang, [])
            merged[lang] += [t for t in texts if t not in merged[lang]]
    return merged


def _lists(catalog: Catalog) -> list[EntityList]:
    """Shared lists used by the published services, with every label as a synonym."""
    found: dict[str, dict[str, list[str]]] = {}
    for service in catalog.menu():
        for step in service.definition.step_list:
            named = step.entity_values()
            kind = step.entity()
            if named is None or kind is None:
                continue  # no list of values (a pattern such as a citizenship ID, or none)
            values = found.setdefault(kind, {})
            for value, label in named:
                names = values.setdefault(value, [])
                names += [n for n in _labels(label) if n not in names]
    return [EntityList(name, values) for name, values in sorted(found.items())]


def _labels(label: Any) -> list[str]:
    if isinstance(label, str):
        return [label]
    return [str(value) for value in label.values()]
