"""Who may call what: API keys with roles, through the real app (`start_app`: the embedded
Redis, a SQLite database of the test's own).

A key works until it is revoked; a valid key without the route's role gets 403; an
officer's key limited to a service neither lists, reads, decides nor revokes another
service's applications (404, as if absent); the bootstrap key holds every role; and the
OpenAPI document names a role on every operation under /api/v1 but the public ones.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.runtime import Runtime
from state.access import Grant, Role
from state.audit import Action
from state.submissions import NewSubmission, Stored
from tests.gateway.security.conftest import StartApp

BOOTSTRAP = "5be3a0c7d9f14e2a8b6c0d4e2f1a3b5c"
CITIZEN = "+97517123456"
# The operations anyone may call (what citizens can use; the folder's problems unless
# GATEWAY_PRIVATE_ENDPOINTS names them).
PUBLIC = {"GET /api/v1/services", "GET /api/v1/services/problems"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def runtime(client: TestClient) -> Runtime:
    assert isinstance(client.app, FastAPI)
    return Runtime.of(client.app)


def make_key(client: TestClient, name: str, *grants: Grant) -> str:
    assert client.portal is not None
    keys = runtime(client).api_keys
    _, secret = client.portal.call(lambda: keys.add(name, grants, "test"))
    return secret


def submit(client: TestClient, key: str, service: str) -> str:
    """A pending application to `service`; its reference."""
    assert client.portal is not None
    new = NewSubmission(
        idempotency_key=key,
        service=service,
        version=1,
        mode="review",
        reference_prefix="AP",
        citizen=CITIZEN,
        channel="ussd",
        lang="en",
        answers={"name": "Pema"},
        document=None,
    )
    store = runtime(client).submission_store
    stored: Stored = client.portal.call(lambda: store.submit(new, [], token=None))
    return stored.submission.reference


@pytest.fixture
def client(start_app: StartApp) -> TestClient:
    return start_app(admin_token=BOOTSTRAP)


@pytest.fixture
def applications(client: TestClient) -> dict[str, str]:
    """One pending application to births and one to land."""
    return {service: submit(client, service, service) for service in ("births", "land")}


def test_a_key_works_until_it_is_revoked(client: TestClient) -> None:
    secret = make_key(client, "monitor", Grant(Role.ADMINISTRATOR))
    assert client.get("/api/v1/notifications", headers=bearer(secret)).status_code == 200
    assert client.portal is not None
    keys = runtime(client).api_keys
    assert client.portal.call(lambda: keys.revoke("monitor"))
    refused = client.get("/api/v1/notifications", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/api/v1/messages?address=%2B97517123456", Role.ADMINISTRATOR),
        ("GET", "/api/v1/notifications", Role.ADMINISTRATOR),
        ("GET", "/api/v1/audit", Role.ADMINISTRATOR),
        ("GET", "/api/v1/audit/export", Role.ADMINISTRATOR),
        ("GET", "/api/v1/submissions", Role.OFFICER),
        ("GET", "/api/v1/admin/services", Role.PUBLISHER),
        ("GET", "/api/v1/analytics/greeting", Role.ANALYST),
    ],
)
def test_each_route_lets_in_its_role_only(
    client: TestClient, method: str, path: str, role: Role
) -> None:
    allowed = make_key(client, "allowed", Grant(role))
    others = [
        r
        for r in Role
        if r != role and not (path.startswith("/api/v1/analytics") and r == Role.ADMINISTRATOR)
    ]
    other = make_key(client, "other", *(Grant(r) for r in others))
    assert client.request(method, path, headers=bearer(allowed)).status_code == 200
    assert client.request(method, path, headers=bearer(BOOTSTRAP)).status_code == 200
    refused = client.request(method, path, headers=bearer(other))
    assert refused.status_code == 403
    assert role.value in refused.json()["detail"]


def test_an_administrator_may_read_the_figures_too(client: TestClient) -> None:
    secret = make_key(client, "admin", Grant(Role.ADMINISTRATOR))
    assert client.get("/api/v1/analytics/greeting", headers=bearer(secret)).status_code == 200


def test_an_officer_sees_only_the_services_of_the_key(
    client: TestClient, applications: dict[str, str]
) -> None:
    births = bearer(make_key(client, "births-desk", Grant(Role.OFFICER, "births")))
    listed = client.get("/api/v1/submissions", headers=births).json()
    assert [record["reference"] for record in listed] == [applications["births"]]
    assert client.get("/api/v1/submissions?service=land", headers=births).json() == []
    assert len(client.get("/api/v1/submissions?service=births", headers=births).json()) == 1
    every = client.get("/api/v1/submissions", headers=bearer(BOOTSTRAP)).json()
    assert len(every) == 2
    land = applications["land"]
    read = client.get(f"/api/v1/submissions/{land}", headers=births)
    absent = client.get("/api/v1/submissions/AP-2099-999999", headers=births)
    assert (read.status_code, absent.status_code) == (404, 404)
    assert read.json()["detail"] == f"no submission {land}"  # as if it did not exist
    decided = client.post(
        f"/api/v1/submissions/{land}/decision", headers=births, json={"decision": "approve"}
    )
    assert decided.status_code == 404
    why = {"reason": "issued in error"}
    revoked = client.post(f"/api/v1/submissions/{land}/revoke", headers=births, json=why)
    assert revoked.status_code == 404
    returned = client.post(
        f"/api/v1/submissions/{land}/return",
        headers=births,
        json={"steps": ["name"], "note": "Spell the name as on the CID."},
    )
    assert returned.status_code == 404
    still = client.get(f"/api/v1/submissions/{land}", headers=bearer(BOOTSTRAP)).json()
    assert still["status"] == "pending"


def test_an_officer_of_several_services_lists_them_newest_first(
    client: TestClient, applications: dict[str, str]
) -> None:
    submit(client, "other", "drones")
    both = bearer(
        make_key(client, "two", Grant(Role.OFFICER, "births"), Grant(Role.OFFICER, "land"))
    )
    listed = client.get("/api/v1/submissions", headers=both).json()
    assert [r["reference"] for r in listed] == [applications["land"], applications["births"]]
    paged = client.get("/api/v1/submissions?limit=1&offset=1", headers=both).json()
    assert [r["reference"] for r in paged] == [applications["births"]]


def test_an_officer_decides_its_own_services_and_it_is_audited(
    client: TestClient, applications: dict[str, str]
) -> None:
    births = bearer(make_key(client, "births-desk", Grant(Role.OFFICER, "births")))
    reference = applications["births"]
    decided = client.post(
        f"/api/v1/submissions/{reference}/decision",
        headers=births,
        json={"decision": "reject", "reason": "the photo is missing"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "rejected"
    nothing = client.post(
        f"/api/v1/submissions/{reference}/revoke", headers=births, json={"reason": "in error"}
    )
    assert nothing.status_code == 409  # nothing issued: nothing revoked, nothing recorded
    entries = client.get("/api/v1/audit", headers=bearer(BOOTSTRAP)).json()
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("key:births-desk", "rejected", reference)
    ]
    assert entries[0]["detail"] == {"reason": "the photo is missing"}
    assert entries[0]["address"] == "127.0.0.1"


def test_without_bootstrap_key_api_keys_still_work(start_app: StartApp) -> None:
    client = start_app()  # GATEWAY_ADMIN_TOKEN unset
    closed = client.get("/api/v1/notifications", headers=bearer("anything"))
    assert closed.status_code == 403  # no key at all: closed, as before
    secret = make_key(client, "monitor", Grant(Role.ADMINISTRATOR))
    assert client.get("/api/v1/notifications", headers=bearer(secret)).status_code == 200
    wrong = client.get("/api/v1/notifications", headers=bearer("gwk_" + "x" * 43))
    assert wrong.status_code == 401  # keys exist: a wrong one is a failure, counted


def test_wrong_keys_count_towards_the_429(start_app: StartApp) -> None:
    client = start_app(admin_token=BOOTSTRAP, admin_failures_per_client="2/minute")
    secret = make_key(client, "monitor", Grant(Role.ADMINISTRATOR))
    statuses = [
        client.get("/api/v1/audit", headers=bearer("gwk_" + "y" * 43)).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    assert client.get("/api/v1/audit", headers=bearer(secret)).status_code == 200


def record(client: TestClient, *entries: tuple[str, Action, str | None]) -> None:
    assert client.portal is not None
    audit = runtime(client).audit
    for actor, action, target in entries:
        client.portal.call(audit.record, actor, action, target, {"n": 1}, "10.0.0.1")


def test_the_audit_log_is_filtered_and_paged(client: TestClient) -> None:
    record(
        client,
        ("cli:root", Action.KEY_CREATED, "monitor"),
        ("pema@gov.bt", Action.SIGN_IN, None),
        ("pema@gov.bt", Action.APPROVED, "AP-2026-000001"),
    )
    admin = bearer(BOOTSTRAP)

    def actions(query: str) -> list[str]:
        found: list[dict[str, Any]] = client.get(f"/api/v1/audit{query}", headers=admin).json()
        return [entry["action"] for entry in found]

    assert actions("") == ["approved", "sign_in", "key_created"]
    assert actions("?actor=pema@gov.bt") == ["approved", "sign_in"]
    assert actions("?action=key_created") == ["key_created"]
    assert actions("?limit=1&offset=1") == ["sign_in"]
    assert actions("?since=2000-01-01T00:00:00%2B05:00&until=2999-01-01T00:00:00") == [
        "approved",
        "sign_in",
        "key_created",
    ]
    assert actions("?until=2000-01-01T00:00:00") == []
    assert client.get("/api/v1/audit?action=nonsense", headers=admin).status_code == 422


def test_the_audit_export_streams_csv_and_json_lines(client: TestClient) -> None:
    record(
        client,
        ("cli:root", Action.KEY_CREATED, "monitor"),
        ("=cmd|' /C calc'!A0", Action.SIGN_IN_FAILED, "@SUM(1+1)"),  # typed by a stranger
    )
    admin = bearer(BOOTSTRAP)
    exported = client.get("/api/v1/audit/export?format=csv", headers=admin)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="audit-')
    assert disposition.endswith('.csv"')
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["id", "at", "actor", "action", "target", "detail", "address"]
    assert [row[3] for row in table[1:]] == ["key_created", "sign_in_failed"]  # oldest first
    assert table[2][2] == "'=cmd|' /C calc'!A0"  # never a formula in a spreadsheet
    assert table[2][4] == "'@SUM(1+1)"
    assert json.loads(table[1][5]) == {"n": 1}
    lines = client.get("/api/v1/audit/export?format=jsonl&action=key_created", headers=admin)
    assert lines.headers["content-disposition"].endswith('.jsonl"')
    (line,) = lines.text.splitlines()
    assert json.loads(line)["target"] == "monitor"
    assert client.get("/api/v1/audit/export?format=xml", headers=admin).status_code == 422


def test_every_api_operation_states_its_role(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = {
        f"{method.upper()} {path}": operation
        for path, methods in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
    }
    assert len(operations) > len(PUBLIC) + 10
    unstated = []
    for name, operation in operations.items():
        if name in PUBLIC:
            assert "security" not in operation, name
            continue
        roles = [
            scope
            for requirement in operation.get("security", [])
            for scope in requirement.get("bearer", [])
        ]
        if not roles or not set(roles) <= {role.value for role in Role}:
            unstated.append(name)
            continue
        assert f"Requires role: {' or '.join(roles)}." in operation["description"], name
    assert not unstated, f"operations without a role: {unstated}"
    assert operations["GET /api/v1/analytics/{service}"]["security"] == [
        {"bearer": ["analyst"]},
        {"bearer": ["administrator"]},
    ]
    assert operations["POST /api/v1/submissions/{reference}/decision"]["security"] == [
        {"bearer": ["officer"]}
    ]
    assert operations["POST /api/v1/admin/services/reload"]["security"] == [
        {"bearer": ["publisher"]}
    ]
    assert operations["GET /api/v1/audit/export"]["security"] == [{"bearer": ["administrator"]}]


def test_private_endpoints_need_their_roles(start_app: StartApp) -> None:
    client = start_app(admin_token=BOOTSTRAP, private_endpoints=["docs", "metrics", "problems"])
    admin = bearer(make_key(client, "admin", Grant(Role.ADMINISTRATOR)))
    publisher = bearer(make_key(client, "publisher", Grant(Role.PUBLISHER)))
    analyst = bearer(make_key(client, "analyst", Grant(Role.ANALYST)))
    assert client.get("/metrics", headers=admin).status_code == 200
    assert client.get("/metrics", headers=publisher).status_code == 403
    assert client.get("/api/v1/services/problems", headers=publisher).status_code == 200
    assert client.get("/api/v1/services/problems", headers=analyst).status_code == 403
    assert client.get("/openapi.json", headers=analyst).status_code == 200  # any role
    assert client.get("/openapi.json").status_code == 401


def test_a_reload_that_publishes_is_audited(start_app: StartApp, services_dir: Path) -> None:
    client = start_app(admin_token=BOOTSTRAP)
    publisher = bearer(make_key(client, "release", Grant(Role.PUBLISHER)))
    reload = "/api/v1/admin/services/reload"
    assert client.post(reload, headers=publisher).status_code == 200  # nothing new
    definition = services_dir / "greeting.yaml"
    definition.write_text(
        definition.read_text(encoding="utf-8").replace("version: 2", "version: 3"),
        encoding="utf-8",
    )
    answered = client.post(reload, headers=publisher)
    assert answered.status_code == 200, answered.text
    entries = client.get("/api/v1/audit", headers=bearer(BOOTSTRAP)).json()
    assert [(e["actor"], e["action"], e["detail"]) for e in entries] == [
        ("key:release", "published", {"versions": {"greeting": 3}})
    ]
