"""The real Rasa: the services exported, trained (`rasa train nlu`, Rasa 3.6 in its own
Python 3.10 environment from `make rasa`), served (`rasa run --enable-api`) and asked.

Select these tests with `pytest tests/nlu/test_rasa_integration.py`. Training takes a
minute or two and is done once per project: the model is cached under a hash of the
exported files, so later runs only start the server (some 20-60 s: TensorFlow).

On CI (`CI=true`) Rasa is required: without its installation these tests FAIL. Elsewhere
they are skipped, with the command that installs it. What an outage of the real Rasa
costs is measured by `bench/nlu_outage_bench.py`; failures of every kind are tested
against a fake server in `test_rasa_client.py`.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dialogs.catalog import Catalog
from dialogs.messages import Entity, Meaning
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from nlu.rasa_client import RasaClassifier
from nlu.rasa_project import export_project
from nlu.rasa_runtime import (
    RasaServer,
    RasaUnavailableError,
    TrainedModel,
    rasa_executable,
    serve,
    train,
)
from tests.dialogs.helpers import SERVICES_DIR

pytestmark = pytest.mark.integration  # the real Rasa, trained and served

TOKEN = "integration-s3cret"


def require_rasa() -> None:
    try:
        rasa_executable()
    except RasaUnavailableError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc}; Rasa is required on CI (CI=true)", pytrace=False)
        pytest.skip(str(exc))


class Unused:
    """The fallback, which must not answer while Rasa is up."""

    name = "unused"

    async def classify(self, text: str, lang: str) -> Meaning:
        return Meaning(text, source="fallback")


@pytest.fixture(scope="module")
def rasa_model(services_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    require_rasa()
    project = tmp_path_factory.mktemp("rasa-project")
    export_project(services_catalog, project)
    model = train(project)
    how = "from the cache" if model.cached else f"trained in {model.seconds:.0f} s"
    print(f"\nrasa model {model.path.name[:12]}: {how}")
    return model


@pytest.fixture(scope="module")
def rasa_server(rasa_model: TrainedModel) -> Iterator[RasaServer]:
    with serve(rasa_model.path, token=TOKEN) as server:
        print(f"\nrasa server started in {server.start_seconds:.1f} s")
        yield server


@pytest.fixture
async def rasa(rasa_server: RasaServer) -> AsyncIterator[RasaClassifier]:
    # A generous timeout: these tests are about what Rasa answers, not how fast; the
    # timeout itself is tested against a fake server and measured by the bench.
    classifier = RasaClassifier(rasa_server.url, Unused(), token=TOKEN, timeout=10.0)
    try:
        yield classifier
    finally:
        await classifier.aclose()


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        ("I want to register my shop", "business-registration", ()),
        (
            "drone permit in paro",
            "drone-flight-authorization",
            (Entity("dzongkhags", "paro"),),
        ),
        (
            "bus service from Thimphu to Samdrup Jongkhar",
            "bus-service-permit",
            (Entity("dzongkhags", "thimphu"), Entity("dzongkhags", "samdrup_jongkhar")),
        ),
        ("lease a factory plot in Pasakha", "industrial-park-lease", ()),
        ("help", "help", ()),
        ("stop", "stop", ()),
        ("hello", "greet", ()),
    ],
)
async def test_rasa_understands_the_services(
    rasa: RasaClassifier, text: str, intent: str, entities: tuple[Entity, ...]
) -> None:
    meaning = await rasa.classify(text, "en")
    assert meaning.source == "rasa"
    assert meaning.intent == intent, meaning.ranking[:3]
    assert meaning.confidence > 0.3
    assert meaning.ranking[0][0] == intent
    for entity in entities:
        assert entity in meaning.entities
    if intent == "industrial-park-lease":
        assert Entity("industrial_parks", "pasakha") in meaning.entities


@pytest.mark.parametrize(
    "text",
    [
        "Karma Wangchuk",  # a person's name (not a training example)
        "vrotk bzemq",  # random letters
        "who won the match yesterday",  # another topic
    ],
)
async def test_rasa_understands_nothing_in_names_and_gibberish(
    rasa: RasaClassifier, text: str
) -> None:
    """The `out_of_scope` intent (and the fallback threshold) read as no intent, where
    DIET alone would pick a service with high confidence."""
    meaning = await rasa.classify(text, "en")
    assert meaning.source == "rasa"
    assert (meaning.intent, meaning.confidence) == (None, 0.0), meaning.ranking[:3]
    assert all(name != "out_of_scope" for name, _ in meaning.ranking)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my cid is 11512000123", {Entity("cid", "11512000123")}),
        ("call me on +975 17123456", {Entity("phone", "17123456")}),
        ("97577123456", {Entity("phone", "77123456")}),  # a phone, not an 11-digit ID
        ("drone permit སྤ་རོ་", {Entity("dzongkhags", "paro")}),  # Dzongkha: a synonym
        ("bus to PARO", {Entity("dzongkhags", "paro")}),
    ],
)
async def test_rasa_finds_entities(rasa: RasaClassifier, text: str, expected: set[Entity]) -> None:
    meaning = await rasa.classify(text, "en")
    assert meaning.source == "rasa"
    assert set(meaning.entities) == expected


async def test_parse_is_fast_once_warm(rasa: RasaClassifier) -> None:
    """Well inside the 0.3 s a USSD hop gives Rasa (the bench measures percentiles)."""
    await rasa.classify("warm up", "en")
    started = time.perf_counter()
    for _ in range(10):
        await rasa.classify("I want to fly a drone in Paro", "en")
    assert (time.perf_counter() - started) / 10 < 0.3


async def test_a_wrong_token_falls_back(rasa_server: RasaServer) -> None:
    wrong = RasaClassifier(rasa_server.url, Unused(), token="wrong", timeout=5.0)
    try:
        meaning = await wrong.classify("drone permit", "en")
    finally:
        await wrong.aclose()
    assert meaning.source == "fallback"
    assert wrong.counters.failures == 1


def test_the_gateway_asks_rasa_end_to_end(rasa_server: RasaServer, tmp_path: Path) -> None:
    """The app configured with GATEWAY_RASA_URL/TOKEN: a citizen's first words on the web
    chat start the service Rasa recognised (and Rasa, not the fallback, answered)."""
    settings = Settings(
        services_dir=SERVICES_DIR,
        var_dir=tmp_path / "var",  # the embedded Redis
        rasa_url=rasa_server.url,
        rasa_token=SecretStr(TOKEN),
        rasa_timeout_seconds=10.0,  # about Rasa's answer here, not its speed
    )
    app = create_app(settings)
    with TestClient(app) as client:
        reply = client.post(
            "/channels/web/messages",
            json={"user": "u-rasa-0001", "text": "I want to register my shop"},
        )
        assert reply.status_code == 200
        assert [r["text"] for r in reply.json()["replies"]] == [
            "Enter your citizenship ID (11 digits)"
        ]
        classifier = Runtime.of(app).classifier
        assert isinstance(classifier, RasaClassifier)
        stats = classifier.stats()
        assert (stats["answered"], stats["fallbacks"]) == (1, 0)
