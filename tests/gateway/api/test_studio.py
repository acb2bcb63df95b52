"""The studio's API with an author's key: a draft written as YAML or JSON and answered with
the checker's diagnostics at their lines, kept with errors, its tests run on it, sent for
review; two authors never overwrite each other; a key limited to a service sees no other."""

from __future__ import annotations

import json

import yaml
from fastapi.testclient import TestClient

from state.access import Grant, Role
from tests.gateway.console.desk_app import console_app, runtime
from tests.redis_databases import RedisDatabase

URL = "/api/v1/studio/services/construction-permit"
PERMIT = """\
format: 1
id: construction-permit
version: 1
title: Construction permit
languages: [en]
steps:
  - id: cid
    type: national_id
    label: CID
    prompt: Enter your citizenship ID (11 digits)

  - id: floors
    type: number
    label: Floors
    prompt: Number of floors (1 to 6)
    min: 1
    max: 6
    error: A building here has 1 to 6 floors.

  - id: review
    type: summary
    prompt: Check your application
    fields: [floors]

  - id: submit
    type: submit
    mode: review
    reference_prefix: CP
    assurance: self-declared
    next: done

  - id: done
    type: end
    prompt: "Application {{ submission.reference }} received."
"""
TESTS = """\
service: construction-permit
cases:
  - name: a two-floor house
    channels: [ussd]
    steps:
      - screen_contains: citizenship ID
      - send: "11501001234"
        screen_contains: Number of floors
      - send: "9"
        screen_contains: 1 to 6 floors
      - send: "2"
        screen_contains: ["Check your application", "Floors: 2"]
      - send: "1"
        screen_contains: Application CP-2026-000001 received
        ended: true
"""


def _key(client: TestClient, name: str, *grants: Grant) -> dict[str, str]:
    assert client.portal is not None
    keys = runtime(client).api_keys
    _, secret = client.portal.call(lambda: keys.add(name, grants, "test"))
    return {"Authorization": f"Bearer {secret}"}


def _yaml(headers: dict[str, str], revision: int | None = None) -> dict[str, str]:
    match = {"If-Match": f'"{revision}"'} if revision is not None else {}
    return {**headers, "Content-Type": "application/yaml", **match}


def test_a_draft_is_checked_kept_with_errors_tested_and_sent_for_review(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR, "construction-permit"))
        broken = PERMIT.replace("next: done", "next: nowhere")
        first = client.put(URL + "/draft", content=broken, headers=_yaml(author))
        assert first.status_code == 200, first.text
        report = first.json()
        assert report["revision"] == 1
        assert report["publishable"] is False
        (wrong,) = [d for d in report["diagnostics"] if d["severity"] == "error"]
        assert wrong["line"] == broken.splitlines().index("    next: nowhere") + 1
        # At the field of the form: the submit step's `next`.
        assert (wrong["path"], wrong["step"]) == (["steps", 3, "next"], "submit")
        assert "nowhere" in wrong["message"]
        assert client.post(URL + "/draft/review", headers=author).status_code == 409
        fixed = client.put(URL + "/draft", content=PERMIT, headers=_yaml(author, 1))
        assert fixed.json()["publishable"] is True, fixed.json()["diagnostics"]
        assert fixed.json()["revision"] == 2
        tests = client.put(URL + "/draft/tests", content=TESTS, headers=_yaml(author, 2))
        assert tests.status_code == 200, tests.text
        ran = client.post(URL + "/draft/tests/run", headers=author).json()
        assert ran["passed"] is True, ran
        assert [(r["case"], r["medium"]) for r in ran["results"]] == [("a two-floor house", "ussd")]
        sent = client.post(URL + "/draft/review", headers={**author, "If-Match": '"3"'})
        assert sent.status_code == 200, sent.text
        assert sent.json()["state"] == "submitted"
        listed = client.get("/api/v1/studio/services", headers=author).json()
        assert listed == [
            {
                "id": "construction-permit",
                "published": None,
                "running": [],
                "draft_revision": 4,
                "draft_state": "submitted",
            }
        ]


def test_a_failing_test_says_where(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        client.put(URL + "/draft", content=PERMIT, headers=_yaml(author))
        wrong = TESTS.replace("1 to 6 floors", "1 to 9 floors")
        client.put(URL + "/draft/tests", content=wrong, headers=_yaml(author, 1))
        ran = client.post(URL + "/draft/tests/run", headers=author).json()
        assert ran["passed"] is False
        assert "1 to 9 floors" in " ".join(ran["results"][0]["failures"])


def test_a_definition_as_json_is_kept_as_yaml(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        body = json.dumps(yaml.safe_load(PERMIT))
        saved = client.put(
            URL + "/draft", content=body, headers={**author, "Content-Type": "application/json"}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["publishable"] is True
        assert yaml.safe_load(saved.json()["source"]) == yaml.safe_load(PERMIT)
        odd = client.put(
            URL + "/draft", content=b"<xml/>", headers={**author, "Content-Type": "text/xml"}
        )
        assert odd.status_code == 415
        other = client.put(
            URL + "/draft",
            content=PERMIT.replace("id: construction-permit", "id: other-permit"),
            headers=_yaml(author, 1),
        )
        assert other.status_code == 422


def test_two_authors_never_overwrite_each_other(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        client.put(URL + "/draft", content=PERMIT, headers=_yaml(author))
        mine = client.put(
            URL + "/draft", content=PERMIT.replace("(1 to 6)", "(1-6)"), headers=_yaml(author, 1)
        )
        assert mine.status_code == 200
        theirs = client.put(URL + "/draft", content=PERMIT, headers=_yaml(author, 1))
        assert theirs.status_code == 409
        current = theirs.json()["detail"]["current"]
        assert current["revision"] == 2
        assert "(1-6)" in current["source"]  # what changed, to compare
        again = client.put(URL + "/draft", content=PERMIT, headers=_yaml(author))
        assert again.status_code == 409  # a new draft where one exists


def test_an_author_of_one_service_sees_no_other(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        births = _key(client, "births", Grant(Role.AUTHOR, "birth-registration"))
        officer = _key(client, "officer", Grant(Role.OFFICER))
        assert client.put(URL + "/draft", content=PERMIT, headers=_yaml(births)).status_code == 404
        assert client.put(URL + "/draft", content=PERMIT, headers=_yaml(officer)).status_code == 403
        assert client.get("/api/v1/studio/services", headers=births).json() == []


def test_text_yaml_cannot_read_safely_is_a_diagnostic(redis_database: RedisDatabase) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(9))}]\n"
        for i in range(9)
    )
    with console_app(redis_database) as client:
        author = _key(client, "author", Grant(Role.AUTHOR))
        for text in (bomb, PERMIT.replace("Floors", "Flo\x00ors"), "[" * 5000):
            checked = client.post(URL + "/draft/check", content=text, headers=_yaml(author))
            assert checked.status_code == 200, checked.text
            assert [d["code"] for d in checked.json()["diagnostics"]] == ["E001"]
        deep = client.put(
            URL + "/draft",
            content="[" * 5000 + "]" * 5000,
            headers={**author, "Content-Type": "application/json"},
        )
        assert deep.status_code == 415
        assert "nested too deeply" in deep.json()["detail"]
