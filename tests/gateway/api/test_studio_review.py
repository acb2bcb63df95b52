"""The studio's review API with real keys, Redis and database: a draft started blank, from
a template or as a copy; the draft against the live version in words; the conversations
in progress it meets; its diagram; bad starts and wrong roles refused."""

from __future__ import annotations

import asyncio

import yaml
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from dialogs.session import Asking, Snapshot
from gateway.catalog.repository import load_lists
from gateway.studio.drafts import checked
from state.access import Grant, Role
from state.store import SessionStore
from tests.gateway.console.desk_app import console_app, runtime
from tests.redis_databases import RedisDatabase

API = "/api/v1/studio"
NEW = f"{API}/services/shop-licence"
DRONE = "drone-flight-authorization"


def _key(client: TestClient, name: str, *grants: Grant) -> dict[str, str]:
    assert client.portal is not None
    keys = runtime(client).api_keys
    _, secret = client.portal.call(lambda: keys.add(name, grants, "test"))
    return {"Authorization": f"Bearer {secret}"}


def _errors(client: TestClient, service: str, source: str) -> list[str]:
    lists, _ = load_lists(runtime(client).services_dir / "lists")
    found = checked(source, f"{service}.yaml", lists)
    return [f"{d.line}: {d.code} {d.message}" for d in found.diagnostics if d.severity == "error"]


def test_templates_are_listed_and_a_template_starts_a_draft_that_passes_the_checker(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR, "shop-licence"))
        listed = client.get(f"{API}/templates", headers=author)
        assert listed.status_code == 200, listed.text
        assert [t["name"] for t in listed.json()] == ["registration", "permit", "information"]
        started = client.post(
            f"{NEW}/draft/start",
            json={"start": "template", "template": "permit", "title": "Shop licence"},
            headers=author,
        )
        assert started.status_code == 200, started.text
        report = started.json()
        assert (report["service"], report["revision"], report["version"]) == ("shop-licence", 1, 1)
        assert report["reference_prefix"] == "SL"
        assert _errors(client, "shop-licence", report["source"]) == []
        stored = client.get(f"{NEW}/draft", headers=author).json()
        assert stored["source"] == report["source"]
        assert stored["publishable"] is True
        again = client.post(
            f"{NEW}/draft/start", json={"start": "blank", "title": "Again"}, headers=author
        )
        assert again.status_code == 409


def test_a_copy_of_a_running_service_gets_a_prefix_of_its_own(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        started = client.post(
            f"{NEW}/draft/start",
            json={"start": "copy", "copy_of": DRONE, "title": "Shop licence"},
            headers=author,
        )
        assert started.status_code == 200, started.text
        source = started.json()["source"]
        raw = yaml.safe_load(source)
        assert (raw["id"], raw["title"], raw["version"]) == ("shop-licence", "Shop licence", 1)
        prefixes = {s["reference_prefix"] for s in raw["steps"] if s["type"] == "submit"}
        assert prefixes == {"SL"}
        assert _errors(client, "shop-licence", source) == []
        # Another copy naming the drone permit's own prefix is refused.
        taken = client.post(
            f"{API}/services/other-permit/draft/start",
            json={
                "start": "copy",
                "copy_of": DRONE,
                "title": "Other",
                "reference_prefix": "DFA",
            },
            headers=author,
        )
        assert taken.status_code == 422, taken.text


def test_bad_starts_and_wrong_roles_are_refused(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR, "shop-licence"))
        officer = _key(client, "officer", Grant(Role.OFFICER))
        cases = [
            ({"start": "template", "template": "lottery", "title": "X"}, author, 422),
            ({"start": "template", "title": "X"}, author, 422),
            ({"start": "copy", "copy_of": "no-such-service", "title": "X"}, author, 404),
            ({"start": "copy", "title": "X"}, author, 422),
            ({"start": "blank", "title": ""}, author, 422),
            ({"start": "blank", "title": "X", "reference_prefix": "toolong"}, author, 422),
            ({"start": "blank", "title": "X"}, officer, 403),
            ({"start": "blank"}, author, 422),  # a new service needs a title
            ({"start": "blank", "title": "Shop\nlicence"}, author, 422),
            ({"start": "blank", "title": "Shop\x85licence"}, author, 422),  # a YAML break
            ({"start": "blank", "title": "Shop\u2028licence"}, author, 422),
            ({"start": "blank", "title": "Shop\x00"}, author, 422),
            ({"start": "published"}, author, 404),  # not published: nothing to start from
        ]
        for body, headers, status in cases:
            answer = client.post(f"{NEW}/draft/start", json=body, headers=headers)
            assert answer.status_code == status, (body, answer.text)
        # A key limited to another service does not see this one.
        other = client.post(
            f"{API}/services/other-permit/draft/start",
            json={"start": "blank", "title": "X"},
            headers=author,
        )
        assert other.status_code == 404
        assert client.get(f"{API}/templates", headers=officer).status_code == 403
        assert client.get(f"{NEW}/draft/diff", headers=officer).status_code == 403
        assert client.get(f"{NEW}/draft/diff").status_code == 401


def test_diff_impact_and_diagram_of_a_new_version(
    redis_database: RedisDatabase, graphviz: None
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR, DRONE))
        publisher = _key(client, "publisher", Grant(Role.PUBLISHER))
        url = f"{API}/services/{DRONE}"
        assert client.get(f"{url}/draft/diff", headers=publisher).status_code == 404
        started = client.post(
            f"{url}/draft/start",
            json={"start": "copy", "copy_of": "bus-service-permit", "title": "Drones"},
            headers=author,
        )
        assert started.status_code == 200, started.text
        assert started.json()["version"] == 2  # the next version of a published service
        diff = client.get(f"{url}/draft/diff", headers=publisher)
        assert diff.status_code == 200, diff.text
        report = diff.json()
        assert (report["live_version"], report["draft_version"]) == (1, 2)
        assert report["added"][0] == {"step": "id_type", "after": None}
        assert "Version 1 → 2" in report["sentences"]
        assert any(s.startswith("Title of the service (en) changed") for s in report["sentences"])

        async def in_progress() -> None:
            redis = Redis.from_url(redis_database.url)
            snapshot = Snapshot(id="c", service=DRONE, version=1, step="model", state=Asking())
            key = SessionStore.keys("+97517123456")[0]
            await redis.hset(key, mapping={"snap": snapshot.to_json(), "deadline": 0})
            await redis.aclose()

        asyncio.run(in_progress())
        impact = client.get(f"{url}/impact", headers=author)
        assert impact.status_code == 200, impact.text
        counted = impact.json()
        assert counted["published"] == 1
        assert counted["draft_version"] == 2
        assert counted["versions"] == [
            {
                "version": 1,
                "published": True,
                "conversations": 1,
                "steps": [{"step": "model", "conversations": 1}],
            }
        ]
        assert counted["complete"] is True
        assert counted["after_publishing"][0] == (
            "New conversations start on version 2 once it is published."
        )

        picture = client.get(f"{url}/draft/diagram.svg", headers=publisher)
        assert picture.status_code == 200, picture.text
        assert picture.headers["content-type"] == "image/svg+xml"
        assert 'href="#step-id_type"' in picture.text
        assert "<script" not in picture.text
        assert "default-src 'none'" in picture.headers["content-security-policy"]


def test_a_published_service_starts_its_next_version_from_the_one_it_runs(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        url = f"{API}/services/{DRONE}/draft/start"
        started = client.post(url, json={"start": "published"}, headers=author)
        assert started.status_code == 200, started.text
        report = started.json()
        assert (report["version"], report["reference_prefix"]) == (2, "DFA")
        folder = (runtime(client).services_dir / f"{DRONE}.yaml").read_text()
        assert report["source"] == folder.replace("version: 1", "version: 2", 1)
        assert client.post(url, json={"start": "published"}, headers=author).status_code == 409


def test_drafts_started_side_by_side_get_prefixes_of_their_own(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        given = []
        for service in ("copy-two", "copy-three"):
            started = client.post(
                f"{API}/services/{service}/draft/start",
                json={"start": "template", "template": "permit", "title": "Copy"},
                headers=author,
            )
            assert started.status_code == 200, started.text
            given.append(started.json()["reference_prefix"])
        assert given[0] == "CT"  # the initials
        assert given[1] != given[0]
        for reserved in ("lists", "static"):
            refused = client.post(
                f"{API}/services/{reserved}/draft/start",
                json={"start": "blank", "title": "X"},
                headers=author,
            )
            assert refused.status_code == 422
