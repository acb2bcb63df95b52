"""The studio's checker on unsaved text, its preview, and a draft played and kept as a
conversation test, with an author's key: the saved case passes when the tests run."""

from __future__ import annotations

import json

import yaml
from fastapi.testclient import TestClient

from state.access import Grant, Role
from tests.gateway.api.test_studio import _key, _yaml
from tests.gateway.console.desk_app import console_app
from tests.gateway.studio.test_play import ANSWERS, STALL, STALL_TESTS
from tests.redis_databases import RedisDatabase

URL = "/api/v1/studio/services/market-stall"
AUTHOR = Grant(Role.AUTHOR, "market-stall")


def _stored(client: TestClient, author: dict[str, str], tests: str | None = None) -> int:
    """A draft of the market stall (with `tests`): its revision."""
    saved = client.put(URL + "/draft", content=STALL, headers=_yaml(author))
    assert saved.status_code == 200, saved.text
    if tests is None:
        return 1
    with_tests = client.put(URL + "/draft/tests", content=tests, headers=_yaml(author, 1))
    assert with_tests.status_code == 200, with_tests.text
    return 2


def test_unsaved_text_is_checked_and_previewed(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", AUTHOR)
        broken = STALL.replace("next: done", "next: nowhere")
        found = client.post(URL + "/draft/check", content=broken, headers=_yaml(author)).json()
        assert found["publishable"] is False
        (wrong,) = [d for d in found["diagnostics"] if d["severity"] == "error"]
        assert set(wrong) >= {"line", "column", "code", "severity", "message", "hint", "path"}
        assert wrong["line"] == broken.splitlines().index("    next: nowhere") + 1
        as_json = {**author, "Content-Type": "application/json"}
        body = json.dumps(yaml.safe_load(STALL))
        fine = client.post(URL + "/draft/check", content=body, headers=as_json).json()
        assert fine["publishable"] is True
        assert [d["code"] for d in fine["diagnostics"]] == ["W271"]  # a list row cut short
        assert client.get(URL + "/draft", headers=author).status_code == 404  # nothing saved

        shown = client.post(URL + "/draft/preview?lang=dz", content=STALL, headers=_yaml(author))
        assert shown.status_code == 200, shown.text
        report = shown.json()
        assert (report["language"], report["languages"]) == ("dz", ["en", "dz"])
        goods = next(s for s in report["steps"] if s["step"] == "goods")
        ussd = next(m for m in goods["media"] if m["medium"] == "ussd")
        assert ussd["screen"].startswith("What do you sell?")  # USSD shows English
        assert ussd["worst"]["size"]["limit"] == 182
        assert ussd["worst"]["size"]["fits"] is True
        whatsapp = next(m for m in goods["media"] if m["medium"] == "whatsapp")
        assert whatsapp["whatsapp"] == {"kind": "buttons", "titles": ["ཚོད་བསྲེ", "རས", "ལག་ཤེས"]}
        english = client.post(URL + "/draft/preview", content=STALL, headers=_yaml(author))
        assert english.json()["language"] == "en"  # the service's first language

        unreadable = client.post(URL + "/draft/preview", content="steps: [", headers=_yaml(author))
        assert unreadable.status_code == 422
        assert unreadable.json()["detail"]["diagnostics"][0]["code"] == "E001"
        french = client.post(URL + "/draft/preview?lang=fr", content=STALL, headers=_yaml(author))
        assert french.status_code == 422
        odd = {**author, "Content-Type": "text/xml"}
        assert client.post(URL + "/draft/check", content=b"<x/>", headers=odd).status_code == 415


def test_a_draft_is_played_and_the_play_kept_as_a_passing_test(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", AUTHOR)
        revision = _stored(client, author, STALL_TESTS)
        asked = {"medium": "ussd", "language": "en", "inputs": ANSWERS}
        played = client.post(URL + "/draft/play", json=asked, headers=author)
        assert played.status_code == 200, played.text
        report = played.json()
        assert set(report) == {
            "service", "medium", "language", "turns", "at", "ended", "problems"
        }  # fmt: skip
        assert report["turns"][0] == {
            "sent": None,
            "screen": "Enter your citizenship ID",
            "options": [],
            "ended": False,
            "at": "cid",
        }
        assert "Welcome Karma Dorji" in report["turns"][1]["screen"]  # the first case's mocks
        assert (report["at"], report["ended"]) == ("done", True)
        mocked = {**asked, "mocks": {"lookups": {"citizen": {"data": {"name": "Sonam"}}}}}
        other = client.post(URL + "/draft/play", json=mocked, headers=author).json()
        assert "Welcome Sonam" in other["turns"][1]["screen"]

        save = {**asked, "name": "played in the studio"}
        stale = client.post(
            URL + "/draft/play/save", json=save, headers={**author, "If-Match": '"1"'}
        )
        assert stale.status_code == 409
        assert client.post(URL + "/draft/play/save", json=save, headers=author).status_code == 428
        saved = client.post(
            URL + "/draft/play/save", json=save, headers={**author, "If-Match": f'"{revision}"'}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["revision"] == revision + 1
        cases = yaml.safe_load(saved.json()["tests"])["cases"]
        assert [c["name"] for c in cases] == ["found in the census", "played in the studio"]
        ran = client.post(URL + "/draft/tests/run", headers=author).json()
        assert ran["passed"] is True, ran
        assert ("played in the studio", "ussd") in [
            (r["case"], r["medium"]) for r in ran["results"]
        ]


def test_a_play_saved_without_tests_makes_the_tests_file(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", AUTHOR)
        _stored(client, author)
        save = {"medium": "web", "inputs": ANSWERS[:3], "name": "first"}
        saved = client.post(
            URL + "/draft/play/save", json=save, headers={**author, "If-Match": '"1"'}
        )
        assert saved.status_code == 200, saved.text
        assert yaml.safe_load(saved.json()["tests"])["service"] == "market-stall"
        ran = client.post(URL + "/draft/tests/run", headers=author).json()
        assert ran["passed"] is True, ran


def test_bad_plays_and_keys_are_refused(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", AUTHOR)
        play = URL + "/draft/play"
        assert client.post(play, json={"medium": "ussd"}, headers=author).status_code == 404
        _stored(client, author)
        for bad in (
            {"medium": "fax"},
            {"medium": "ussd", "inputs": ["1"] * 201},
            {"medium": "ussd", "inputs": ["x" * 501]},
            {"medium": "ussd", "language": "fr"},
            {"medium": "ussd", "colour": "red"},
        ):
            assert client.post(play, json=bad, headers=author).status_code == 422, bad
        other = _key(client, "births", Grant(Role.AUTHOR, "birth-registration"))
        officer = _key(client, "officer", Grant(Role.OFFICER))
        for url in (play, URL + "/draft/check", URL + "/draft/preview"):
            body = {"json": {"medium": "ussd"}} if url == play else {"content": STALL}
            headers = {} if url == play else {"Content-Type": "application/yaml"}
            assert client.post(url, headers={**other, **headers}, **body).status_code == 404
            assert client.post(url, headers={**officer, **headers}, **body).status_code == 403


def test_a_draft_going_to_a_step_that_is_not_there_stops_with_a_problem(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        author = _key(client, "author", AUTHOR)
        broken = STALL.replace("next: stalls", "next: nowhere", 1)
        assert "nowhere" in broken
        saved = client.put(URL + "/draft", content=broken, headers=_yaml(author))
        assert not saved.json()["publishable"]
        asked = {"medium": "ussd", "language": "en", "inputs": ANSWERS}
        played = client.post(URL + "/draft/play", json=asked, headers=author)
        assert played.status_code == 200, played.text
        report = played.json()
        assert any("no step 'nowhere'" in problem for problem in report["problems"])
        assert len(report["turns"]) < len(ANSWERS) + 1
