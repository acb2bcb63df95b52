"""The studio's scenario through the API alone, as a ministry would script it: an author
drafts a construction permit, plays it on USSD and keeps that as a test, runs the tests
and sends it for review; a publisher publishes it; a citizen completes it over the USSD
callback; an officer approves it. `gateway export` then writes services that
`gateway check` and `gateway test` accept, and exporting again changes no byte."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.settings import Settings
from state.access import Grant, Role
from tests.gateway.api.test_studio import _key, _yaml
from tests.gateway.console.desk_app import ROOT, console_app, in_days
from tests.gateway.providers.apps import dial
from tests.redis_databases import RedisDatabase

SERVICE = "construction-permit"
URL = f"/api/v1/studio/services/{SERVICE}"
PERMIT = Path(__file__).parents[1] / "studio" / "permit"
CITIZEN = "+97517654321"
# To the end, on the citizen's own land (the reference is on the last screen).
ANSWERS = ["11501001234", "Paro", "TH-1234", "1", "2", in_days(30), "1", "1", "1"]


def settings_of_app(application: FastAPI) -> Settings:
    found = application.state.settings
    assert isinstance(found, Settings)
    return found


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.yaml"))
    }


def _publish_the_permit(client: TestClient) -> None:
    author = _key(client, "author", Grant(Role.AUTHOR, SERVICE))
    publisher = _key(client, "publisher", Grant(Role.PUBLISHER))
    source = (PERMIT / f"{SERVICE}.yaml").read_text(encoding="utf-8")
    saved = client.put(URL + "/draft", content=source, headers=_yaml(author))
    assert saved.json()["publishable"], saved.json()["diagnostics"]
    tests = (PERMIT / f"{SERVICE}.tests.yaml").read_text(encoding="utf-8")
    assert client.put(URL + "/draft/tests", content=tests, headers=_yaml(author, 1)).is_success
    played = {"medium": "ussd", "language": "en", "inputs": ANSWERS[:7]}
    turns = client.post(URL + "/draft/play", json=played, headers=author).json()["turns"]
    assert "Check your application" in turns[-1]["screen"]
    kept = client.post(
        URL + "/draft/play/save",
        json={**played, "name": "played in the studio"},
        headers={**author, "If-Match": '"2"'},
    )
    assert kept.status_code == 200, kept.text
    ran = client.post(URL + "/draft/tests/run", headers=author).json()
    assert ran["passed"], ran
    assert "played in the studio" in {r["case"] for r in ran["results"]}
    assert client.post(URL + "/draft/review", headers=author).status_code == 200
    published = client.post(URL + "/draft/publish", json={}, headers=publisher)
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 1


def test_the_permit_built_through_the_api_is_applied_for_approved_and_exported(
    redis_database: RedisDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console_app(redis_database) as client:
        _publish_the_permit(client)
        menu = dial(client, "*384#", "c-1", [], CITIZEN)
        number = next(line.split(".")[0] for line in menu.splitlines() if "Construction" in line)
        last = dial(client, "*384#", "c-2", [number, *ANSWERS], CITIZEN)
        found = re.search(r"CP-\d{4}-\d{6}", last)
        assert found is not None, last
        officer = _key(client, "officer", Grant(Role.OFFICER, SERVICE))
        decided = client.post(
            f"/api/v1/submissions/{found.group(0)}/decision",
            json={"decision": "approve"},
            headers=officer,
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "approved"
        assert isinstance(client.app, FastAPI)
        var = settings_of_app(client.app).var_dir  # its database is the one to export

    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(var))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "")
    monkeypatch.setenv("GATEWAY_SERVICES_DIR", str(ROOT / "services"))
    runner = CliRunner()
    exported = tmp_path / "exported"
    result = runner.invoke(app, ["export", str(exported)])
    assert result.exit_code == 0, result.output
    assert f"wrote {exported / (SERVICE + '.yaml')}" in result.output
    assert (exported / f"{SERVICE}.yaml").read_text() == (
        (PERMIT / f"{SERVICE}.yaml").read_text()
    )  # as written, its version line already 1
    checked = runner.invoke(app, ["check", str(exported)])
    assert checked.exit_code == 0, checked.output
    assert "0 error(s)" in checked.output
    tested = runner.invoke(app, ["test", str(exported)])
    assert tested.exit_code == 0, tested.output
    assert "played in the studio" in tested.output
    before = _digests(exported)
    again = runner.invoke(app, ["export", str(exported)])
    assert again.exit_code == 0
    assert "wrote" not in again.output
    assert _digests(exported) == before
