"""Drop-off analytics from real conversations: the shipped business registration driven
through the web chat and USSD APIs on a clock of our own, some citizens finishing, some
answering wrongly, stopping or walking away (expired by the sweeper), then the figures
read back from `GET /api/v1/analytics/...` and `gateway report`, exactly.

Redis: a database leased to this module; the database is SQLite in a folder of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.cli.main import app as cli
from gateway.conversations.service import Conversations
from gateway.runtime import Runtime
from tests.gateway.providers.apps import gateway, prove_number
from tests.redis_databases import RedisDatabase

TOKEN = "analytics-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVICE = "business-registration"
ROOT = Path(__file__).resolve().parents[3]
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00 UTC
USSD_CODE = "*384*1#"
DAY = 24 * 3600

# (answer, seconds since the previous message); "" opens the web chat's menu, "2" picks
# "Register a business" in it.
COMPLETE_A = [("", 0), ("2", 5), ("11501001234", 10), ("Pema Store", 20), ("1", 5), ("2", 5)]
COMPLETE_A += [("14", 5), ("17123456", 5), ("1", 5), ("1", 5)]
COMPLETE_B = [("", 0), ("2", 5), ("11501001234", 30), ("Dorji Cafe", 40), ("1", 5), ("2", 5)]
COMPLETE_B += [("14", 5), ("17123456", 5), ("1", 5), ("1", 5)]
# Two wrong IDs, the right one 15 s after the start, then "stop" at the business name.
STOPS = [("", 0), ("2", 5), ("123", 5), ("456", 5), ("11501001234", 5), ("stop", 7)]
# Leaves at the business name: expired by the sweeper.
WALKS_AWAY = [("", 0), ("2", 5), ("11501001234", 20)]
# A wrong activity, then silence: expired at the activity.
GIVES_UP = [("", 0), ("2", 5), ("11501001234", 40), ("Tashi Store", 60), ("1", 5), ("999", 5)]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Run:
    client: TestClient
    var: Path


def web(client: TestClient, clock: Clock, user: str, script: list[tuple[str, int]]) -> Any:
    prove_number(client, f"web:{user}")  # they proved their number before
    data: Any = None
    for number, (text, after) in enumerate(script):
        clock.now += after
        payload = {"user": user, "text": text, "id": f"{user}-{number}"}
        response = client.post("/channels/web/messages", json=payload)
        assert response.status_code == 200, response.text
        data = response.json()
    return data


def ussd(client: TestClient, clock: Clock, script: list[tuple[str, int]]) -> str:
    text, screen = "", ""
    for answer, after in script:
        clock.now += after
        text = answer if not text else f"{text}*{answer}"
        form = {
            "sessionId": "ATUid_analytics",
            "phoneNumber": "+97517999999",
            "networkCode": "40201",
            "serviceCode": USSD_CODE,
            "text": text,
        }
        screen = client.post("/channels/ussd/africastalking", data=form).text
    return screen


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, module_redis_database: RedisDatabase
) -> Iterator[Run]:
    var = tmp_path_factory.mktemp("analytics-var")
    settings = {
        "admin_token": TOKEN,
        "var_dir": var,
        "services_dir": ROOT / "services",
        "ussd_codes": {USSD_CODE: SERVICE},
    }
    with gateway(module_redis_database.number, **settings) as (client, _effects):
        app = client.app
        assert isinstance(app, FastAPI)
        conversations: Conversations = Runtime.of(app).conversations
        clock = Clock()
        conversations.clock = clock
        assert web(client, clock, "citizen-a1", COMPLETE_A)["ended"] is True
        assert web(client, clock, "citizen-b2", COMPLETE_B)["ended"] is True
        assert web(client, clock, "citizen-c3", STOPS)["ended"] is True
        web(client, clock, "citizen-d4", WALKS_AWAY)
        web(client, clock, "citizen-e5", GIVES_UP)
        # A USSD caller with one wrong ID, who hangs up.
        assert "citizenship ID" in ussd(client, clock, [("", 0), ("12", 5)])
        portal = client.portal
        assert portal is not None
        expired = portal.call(conversations.sweep, T0 + 3 * DAY)
        assert expired == 3
        # What the archiver of `gateway serve` does within ARCHIVE_SECONDS (the API also
        # drains before it counts; `gateway report` reads only the database).
        portal.call(Runtime.of(app).events.drain)
        yield Run(client, var)


def figures(data: dict[str, Any]) -> dict[str, tuple[int, int, int, float | None]]:
    return {
        s["step"]: (s["reached"], s["dropped"], s["invalid"], s["median_seconds"])
        for s in data["steps"]
    }


def test_the_funnel_counts_every_citizen_where_they_stopped(run: Run) -> None:
    response = run.client.get(f"/api/v1/analytics/{SERVICE}", headers=AUTH)
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["service"], data["title"]) == (SERVICE, "Register a business")
    assert (data["started"], data["completed"], data["completion_rate"]) == (6, 2, 0.3333)
    assert data["by_channel"] == {
        "ussd": {"started": 1, "completed": 0, "completion_rate": 0.0},
        "web": {"started": 5, "completed": 2, "completion_rate": 0.4},
    }
    # (reached, dropped, invalid, median seconds), in the service's order.
    assert figures(data) == {
        "cid": (6, 1, 3, 20.0),  # 10, 15, 20, 30, 40 s; the USSD caller hung up here
        "citizen": (5, 0, 0, None),  # the census lookup: automatic
        "applicant_name": (0, 0, 0, None),  # only when the census has no record
        "business_name": (5, 2, 0, 40.0),  # 20, 40, 60 s; one stopped, one walked away
        "business_type": (3, 0, 0, 5.0),
        "medium_notice": (0, 0, 0, None),
        "activity": (3, 1, 1, 5.0),
        "location": (2, 0, 0, 5.0),
        "contact_phone": (2, 0, 0, 5.0),
        "review": (2, 0, 0, 5.0),
        "consent": (2, 0, 0, 5.0),
        "submit": (2, 0, 0, None),
        "done": (2, 0, 0, None),
        "submit_review": (0, 0, 0, None),  # nobody was sent to an officer
        "done_review": (0, 0, 0, None),
        "declined": (0, 0, 0, None),
    }
    assert list(figures(data)) == [
        "cid",
        "citizen",
        "applicant_name",
        "business_name",
        "business_type",
        "medium_notice",
        "activity",
        "location",
        "contact_phone",
        "review",
        "consent",
        "submit",
        "done",
        "submit_review",
        "done_review",
        "declined",
    ]
    cid = data["steps"][0]
    assert (cid["label"], cid["kind"]) == ("Citizenship ID", "input")
    assert cid["by_channel"] == {
        "ussd": {"reached": 1, "dropped": 1, "invalid": 1, "median_seconds": None},
        "web": {"reached": 5, "dropped": 0, "invalid": 2, "median_seconds": 20.0},
    }
    assert data["steps"][1]["label"] == "Citizen"  # no label nor plain prompt: its id


def test_a_channel_filter_gives_that_channels_figures(run: Run) -> None:
    data = run.client.get(
        f"/api/v1/analytics/{SERVICE}", params={"channel": "ussd"}, headers=AUTH
    ).json()
    assert (data["channel"], data["started"], data["completed"]) == ("ussd", 1, 0)
    assert data["completion_rate"] == 0.0
    assert list(data["by_channel"]) == ["ussd"]
    assert figures(data)["cid"] == (1, 1, 1, None)
    assert figures(data)["business_name"] == (0, 0, 0, None)


def test_a_window_counts_the_attempts_started_in_it(run: Run) -> None:
    def started(**params: str) -> int:
        response = run.client.get(f"/api/v1/analytics/{SERVICE}", params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        return int(response.json()["started"])

    assert started(since="2027-01-15T08:00:00") == 6
    assert started(since="2027-01-16") == 0
    assert started(until="2027-01-15T08:00:00") == 0
    # The first citizen started 5 s after T0; offsets are converted to UTC.
    assert started(until="2027-01-15T08:00:06") == 1
    assert started(until="2027-01-15T14:15:06+06:15") == 1
    data = run.client.get(
        f"/api/v1/analytics/{SERVICE}", params={"until": "2027-01-15T08:00:06"}, headers=AUTH
    ).json()
    assert data["completed"] == 1  # followed to the end, past `until`


def test_the_figures_need_the_admin_token(run: Run) -> None:
    url = f"/api/v1/analytics/{SERVICE}"
    assert run.client.get(url).status_code == 401
    assert run.client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert run.client.get("/api/v1/analytics/no-such-service").status_code == 401


def test_an_unknown_service_is_404(run: Run) -> None:
    response = run.client.get("/api/v1/analytics/no-such-service", headers=AUTH)
    assert response.status_code == 404
    assert run.client.get("/analytics/no-such-service").status_code == 404


def test_a_withdrawn_service_keeps_its_figures(run: Run, tmp_path: Path) -> None:
    """Withdrawn (still loaded for conversations in flight), then released: the figures
    stay, from its last version and then from its conversations alone."""
    conversations = Runtime.of(run.client.app).conversations
    running = conversations.catalog
    url = f"/api/v1/analytics/{SERVICE}"
    try:
        published = {k: v for k, v in running.published.items() if k != SERVICE}
        conversations.catalog = replace(running, published=published)
        data = run.client.get(url, headers=AUTH).json()
        assert (data["title"], data["started"], data["completed"]) == (
            "Register a business",
            6,
            2,
        )
        assert figures(data)["cid"] == (6, 1, 3, 20.0)
        conversations.catalog = conversations.catalog.release(SERVICE, 1)
        assert conversations.catalog.latest(SERVICE) is None
        data = run.client.get(url, headers=AUTH).json()
        assert (data["started"], data["completed"]) == (6, 2)
        assert figures(data)["business_name"] == (5, 2, 0, 40.0)
        # The public page answers from the catalog alone (no database, nothing told).
        assert run.client.get(f"/analytics/{SERVICE}").status_code == 404
    finally:
        conversations.catalog = running
    folder = tmp_path / "services"
    shutil.copytree(ROOT / "services", folder)
    (folder / f"{SERVICE}.yaml").unlink()
    env = {
        "GATEWAY_VAR_DIR": str(run.var),
        "GATEWAY_SERVICES_DIR": str(folder),
        "GATEWAY_DATABASE_URL": None,
    }
    result = CliRunner().invoke(cli, ["report", SERVICE], env=env)
    assert result.exit_code == 0, result.output
    assert "started 6, completed 2, completion rate 33.3 %" in result.stdout


def test_the_page_is_served_with_its_assets(run: Run) -> None:
    page = run.client.get(f"/analytics/{SERVICE}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert b'<script src="analytics.js">' in page.content
    script = run.client.get("/analytics/analytics.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"api/v1/analytics/" in script.content
    assert run.client.get("/analytics/analytics.css").status_code == 200
    again = run.client.get(
        "/analytics/analytics.js", headers={"If-None-Match": script.headers["etag"]}
    )
    assert again.status_code == 304
    paths = run.client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/analytics/{service}"]
    assert "/analytics/analytics.js" not in paths


def test_the_archive_keeps_no_phone_numbers(run: Run) -> None:
    import sqlite3

    with sqlite3.connect(run.var / "gateway.db") as connection:
        found = connection.execute("SELECT * FROM events").fetchall()
    assert len(found) > 40
    assert not [row for row in found if "+975" in repr(row) or "citizen-" in repr(row)]


def test_gateway_report_prints_the_funnel(run: Run) -> None:
    env = {
        "GATEWAY_VAR_DIR": str(run.var),
        "GATEWAY_SERVICES_DIR": str(ROOT / "services"),
        "GATEWAY_DATABASE_URL": None,
    }
    result = CliRunner().invoke(cli, ["report", SERVICE], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # logs go to stderr
    assert lines[0] == "Register a business (business-registration)"
    assert lines[1] == "started 6, completed 2, completion rate 33.3 %"
    assert "  ussd: started 1, completed 0, completion rate 0.0 %" in lines
    assert "  web: started 5, completed 2, completion rate 40.0 %" in lines
    header = next(line for line in lines if line.startswith("Step"))
    assert header.split() == ["Step", "Reached", "Dropped", "Invalid", "Median", "time"]
    rows = {line.split("  ")[0].strip(): line.split() for line in lines if "[" in line}
    assert rows["Citizenship ID [cid]"][-5:] == ["6", "1", "3", "20", "s"]
    assert rows["Business name [business_name]"][-5:] == ["5", "2", "0", "40", "s"]
    assert rows["Activity [activity]"][-5:] == ["3", "1", "1", "5", "s"]

    ussd_only = CliRunner().invoke(
        cli, ["report", SERVICE, "--channel", "ussd", "--since", "2027-01-15"], env=env
    )
    assert ussd_only.exit_code == 0, ussd_only.output
    assert "started 1, completed 0, completion rate 0.0 %" in ussd_only.stdout

    unknown = CliRunner().invoke(cli, ["report", "no-such-service"], env=env)
    assert unknown.exit_code == 2
