"""Training data from the catalog: what the embedded classifier and the Rasa export learn."""

from __future__ import annotations

import re

from dialogs.catalog import Catalog
from dialogs.messages import BUILTIN_INTENTS
from nlu.training import PATTERNS, builtin_examples, training_data


def test_builtin_examples_are_text_and_plentiful() -> None:
    examples = builtin_examples()
    assert set(BUILTIN_INTENTS) <= set(examples)
    for intent in BUILTIN_INTENTS:
        phrases = [p for texts in examples[intent].values() for p in texts]
        # Unquoted yes/no would be read by YAML as booleans.
        assert all(isinstance(p, str) and p for p in phrases), intent
        assert len(examples[intent]["en"]) >= 15, intent
        assert examples[intent].get("dz"), intent


def test_one_intent_per_service_and_per_builtin(services_catalog: Catalog) -> None:
    data = training_data(services_catalog)
    names = [item.intent for item in data.intents]
    services = [service.id for service in services_catalog.menu()]
    assert names == [*services, *BUILTIN_INTENTS]
    registration = data.intent("business-registration")
    assert registration is not None
    phrases = registration.phrases()
    assert ("en", "I want to register my shop") in phrases
    assert any(lang == "dz" for lang, _ in phrases)
    assert data.intent("nothing") is None


def test_catalog_command_words_are_keywords(services_catalog: Catalog) -> None:
    data = training_data(services_catalog)
    stop = data.intent("stop")
    assert stop is not None
    assert {"stop", "cancel"} <= set(stop.keywords[""])
    assert all(not w.isdigit() for item in data.intents for w in item.keywords.get("", []))


def test_shared_lists_as_entities(services_catalog: Catalog) -> None:
    lists = {entity_list.name: entity_list for entity_list in training_data(services_catalog).lists}
    assert {"dzongkhags", "business_activities", "industrial_parks"} <= set(lists)
    assert lists["dzongkhags"].values["paro"] == ["Paro", "སྤ་རོ་"]
    assert len(lists["dzongkhags"].values) == 20


def test_patterns() -> None:
    cid, phone = re.compile(PATTERNS["cid"]), re.compile(PATTERNS["phone"])
    assert cid.search("my cid 11501001234 ok")
    assert not cid.search("1150100123")
    assert phone.search("+975 17123456")
    assert phone.search("77123456")
    assert not phone.search("12345678")
