"""Free text through the running gateway, understood by the embedded classifier.

The web chat API carries the messages; the classifier is the real one built from
`services/` at start (no Rasa configured). Rasa itself: `tests/nlu`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.catalog.repository import load_repository
from gateway.conversations.understanding import classifier_for
from gateway.settings import Settings
from nlu.embedded import EmbeddedClassifier
from nlu.rasa_client import RasaClassifier
from tests.gateway.providers.apps import gateway, prove_number
from tests.redis_databases import RedisDatabase

USER = "u-nlu-0001"


def say(client: TestClient, text: str) -> list[str]:
    prove_number(client, f"web:{USER}")  # as if proved by a code before
    data = client.post("/channels/web/messages", json={"user": USER, "text": text}).json()
    return [reply["text"] for reply in data["replies"]]


def test_a_first_message_in_words_starts_the_service(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, _):
        assert say(client, "I want to register my shop") == [
            "Enter your citizenship ID (11 digits)"
        ]


def test_an_id_given_up_front_is_confirmed_then_used(redis_database: RedisDatabase) -> None:
    with gateway(redis_database.number) as (client, effects):
        first = say(client, "register my business please, my CID is 11501001234")
        assert first == ["Citizenship ID: 11501001234\nIs that right?"]
        assert say(client, "1")[-1].startswith("Welcome Pema Wangmo.")
    assert effects.lookups[0].url.endswith("/citizens/11501001234")


def test_a_request_for_another_service_mid_application_is_offered(
    redis_database: RedisDatabase,
) -> None:
    with gateway(redis_database.number) as (client, _):
        say(client, "I want to register my shop")
        say(client, "11501001234")
        say(client, "Pema Store")  # now at the type of business (a choice)
        offer = say(client, "actually I need a drone flight permit instead")
        assert offer == ["Start Drone flight permit instead? Your answers here will be lost."]
        assert say(client, "yes") == ["Enter your citizenship ID (11 digits)"]


def test_words_nobody_understands_get_the_menu_first_then_an_apology(
    redis_database: RedisDatabase,
) -> None:
    with gateway(redis_database.number) as (client, _):
        assert say(client, "qwzx") == ["Government services. Choose one:"]
        assert say(client, "plkj") == [
            "Sorry, I did not understand that.\nGovernment services. Choose one:"
        ]


def test_the_classifier_is_embedded_unless_rasa_is_configured(tmp_path: Path) -> None:
    catalog = load_repository([Path("services")]).catalog

    async def build(settings: Settings) -> object:
        async with contextlib.AsyncExitStack() as resources:
            return classifier_for(settings, catalog, resources)

    import asyncio

    embedded = asyncio.run(build(Settings(var_dir=tmp_path)))
    assert isinstance(embedded, EmbeddedClassifier)
    rasa = asyncio.run(
        build(
            Settings(
                var_dir=tmp_path,
                rasa_url="http://127.0.0.1:5005",
                rasa_timeout_seconds=0.2,
                rasa_failures=2,
            )
        )
    )
    assert isinstance(rasa, RasaClassifier)
    assert isinstance(rasa.fallback, EmbeddedClassifier)
    assert rasa.timeout.total == 0.2
    assert rasa.breaker.threshold == 2
