"""Publishing from the studio's API: a reviewed draft becomes the next version, live for
new conversations at once here and within seconds in every other process; another
person publishes what an author sent; an earlier version is published again as a new
number; a reload of the folder leaves a studio service alone; every step is audited."""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from state.access import Grant, Role
from state.audit import Action
from tests.gateway.api.test_studio import PERMIT, TESTS, URL, _key, _yaml
from tests.gateway.console.desk_app import console_app, runtime
from tests.gateway.providers.apps import dial
from tests.redis_databases import RedisDatabase

SERVICE = "construction-permit"
_PHONES = itertools.count(100001)
HOUSES = "Number of floors (1 to 6)"
TOWERS = "How many floors (1 to 6)?"


def _submitted(client: TestClient, author: dict[str, str], source: str) -> None:
    """Write `source` as the draft (over whatever revision it has) and send it."""
    current = client.get(URL + "/draft", headers=author)
    revision = current.json()["revision"] if current.status_code == 200 else None
    saved = client.put(URL + "/draft", content=source, headers=_yaml(author, revision))
    assert saved.status_code == 200, saved.text
    assert saved.json()["publishable"], saved.json()["diagnostics"]
    sent = client.post(URL + "/draft/review", headers=author)
    assert sent.status_code == 200, sent.text


def _publish(client: TestClient, publisher: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post(URL + "/draft/publish", json=body, headers=publisher)
    assert answer.status_code == 200, answer.text
    published: dict[str, Any] = answer.json()
    return published


def _prompt(client: TestClient) -> str:
    """What a new citizen dialling the menu sees at the permit's floors question."""
    phone = f"+97517{next(_PHONES):06d}"
    menu = dial(client, "*384#", f"s-{phone}", [], phone)
    number = next(line.split(".")[0] for line in menu.splitlines() if "Construction" in line)
    return dial(client, "*384#", f"t-{phone}", [number, "11501001234"], phone)


def test_a_reviewed_draft_is_published_rolled_back_and_audited(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR, SERVICE))
        publisher = _key(client, "publisher", Grant(Role.PUBLISHER))
        _submitted(client, author, PERMIT)
        client.put(URL + "/draft/tests", content=TESTS, headers=_yaml(author, 2))
        # Saving the tests took it back to editing: what was reviewed is no longer it.
        refused = client.post(URL + "/draft/publish", json={}, headers=publisher)
        assert refused.status_code == 409
        assert client.post(URL + "/draft/review", headers=author).status_code == 200
        assert client.post(URL + "/draft/publish", json={}, headers=author).status_code == 403
        nothing = "/api/v1/studio/services/no-draft-here/draft/publish"
        assert client.post(nothing, json={}, headers=publisher).status_code == 404
        first = _publish(client, publisher, comment="first version")
        assert first == {
            "service": SERVICE,
            "version": 1,
            "previous": None,
            "origin": "studio",
            "generation": first["generation"],
        }
        assert isinstance(first["generation"], int)
        assert HOUSES in _prompt(client)
        draft = client.get(URL + "/draft", headers=author).json()
        assert (draft["state"], draft["published"]) == ("published", 1)

        _submitted(client, author, PERMIT.replace(HOUSES, TOWERS))
        second = _publish(client, publisher)
        assert (second["version"], second["previous"]) == (2, 1)
        assert TOWERS in _prompt(client)

        back = client.post(
            f"/api/v1/studio/services/{SERVICE}/rollback",
            json={"version": 1, "comment": "towers confused people"},
            headers=publisher,
        )
        assert back.status_code == 200, back.text
        assert (back.json()["version"], back.json()["origin"]) == (3, "rollback")
        assert HOUSES in _prompt(client)
        listed = client.get(f"/api/v1/studio/services/{SERVICE}/versions", headers=author).json()
        assert [(v["version"], v["origin"], v["live"]) for v in listed] == [
            (3, "rollback", True),
            (2, "studio", False),
            (1, "studio", False),
        ]
        assert listed[0]["comment"] == "towers confused people"
        assert listed[2]["published_by"] == "key:publisher"
        missing = client.post(
            f"/api/v1/studio/services/{SERVICE}/rollback", json={"version": 9}, headers=publisher
        )
        assert missing.status_code == 404

        # The folder's services were recorded at start, as a fresh install imports them.
        folder = client.get(
            "/api/v1/studio/services/business-registration/versions", headers=publisher
        )
        assert [(v["version"], v["origin"], v["live"]) for v in folder.json()] == [
            (1, "folder", True)
        ]
        # The folder does not hold the permit: reloading it must not withdraw it.
        reloaded = client.post("/api/v1/admin/services/reload", headers=publisher)
        assert reloaded.status_code == 200, reloaded.text
        assert runtime(client).conversations.catalog.published[SERVICE] == 3

        assert client.portal is not None
        entries = client.portal.call(runtime(client).audit.entries)
        actions = [e.action for e in entries if e.target == SERVICE]
        assert actions.count(Action.PUBLISHED) == 2
        assert Action.ROLLED_BACK in actions
        assert Action.DRAFT_SUBMITTED in actions
        saved = [e.detail for e in entries if e.action == Action.DRAFT_SAVED]
        assert {"revision": 3, "part": "tests"} in saved
        assert {"revision": 1, "part": "definition"} in saved


def test_the_sender_publishes_only_when_the_deployment_allows(
    redis_database: RedisDatabase,
) -> None:
    both = (Grant(Role.AUTHOR, SERVICE), Grant(Role.PUBLISHER))
    with console_app(redis_database) as client:
        alone = _key(client, "alone", *both)
        _submitted(client, alone, PERMIT)
        answer = client.post(URL + "/draft/publish", json={}, headers=alone)
        assert answer.status_code == 409
        assert "another person" in answer.json()["detail"]
        back = client.post(URL + "/draft/return", json={"comment": "\x00"}, headers=alone)
        assert back.status_code == 409  # a comment of nothing says nothing
        back = client.post(URL + "/draft/return", json={"comment": "Add the plot"}, headers=alone)
        assert back.status_code == 200, back.text
        assert (back.json()["state"], back.json()["comment"]) == ("editing", "Add the plot")
    with console_app(redis_database, studio_solo_publish=True) as client:
        alone = _key(client, "alone", *both)
        _submitted(client, alone, PERMIT)
        assert _publish(client, alone)["version"] == 1


def test_every_process_offers_a_publication_within_seconds(
    redis_database: RedisDatabase,
) -> None:
    shared = Path(tempfile.mkdtemp(prefix="gateway-studio-")) / "gateway.db"
    url = f"sqlite:///{shared}"
    with (
        console_app(redis_database, database_url=url) as here,
        console_app(redis_database, database_url=url) as there,
    ):
        author = _key(here, "author", Grant(Role.AUTHOR, SERVICE))
        publisher = _key(here, "publisher", Grant(Role.PUBLISHER))
        _submitted(here, author, PERMIT)
        _publish(here, publisher)
        deadline = time.monotonic() + 20
        while SERVICE not in runtime(there).conversations.catalog.published:
            assert time.monotonic() < deadline, "the other process never offered it"
            time.sleep(0.2)
        assert HOUSES in _prompt(there)
    # A process started later runs it too: the database governs it, not a folder.
    with console_app(redis_database, database_url=url) as later:
        assert runtime(later).conversations.catalog.published[SERVICE] == 1
