"""The administrators' and analysts' pages: people (accounts, roles, API keys), the audit
log with its export, and the figures."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from state.access import Grant, Role
from tests.gateway.console.desk_app import (
    PASSWORD,
    add_account,
    apply_for_drone_permit,
    console_app,
    csrf_of,
    officer,
    runtime,
    sign_in,
)
from tests.redis_databases import RedisDatabase

ADMIN = Grant(Role.ADMINISTRATOR)


def _as(client: TestClient, email: str) -> None:
    client.cookies.clear()
    assert sign_in(client, email).status_code == 303


def test_an_administrator_adds_an_officer_who_can_then_sign_in(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "admin@gov.bt", ADMIN)
        _as(client, "admin@gov.bt")
        people = client.get("/console/people")
        assert people.status_code == 200
        weak = client.post(
            "/console/people/accounts",
            data={
                "csrf": csrf_of(people.text),
                "email": "dorji@gov.bt",
                "password": "short",
                "role": "officer",
                "service": "drone-flight-authorization",
            },
        )
        assert weak.status_code == 422
        assert "at least 12 characters" in weak.text
        added = client.post(
            "/console/people/accounts",
            data={
                "csrf": csrf_of(people.text),
                "email": "dorji@gov.bt",
                "password": PASSWORD,
                "role": "officer",
                "service": "drone-flight-authorization",
            },
        )
        assert added.status_code == 303
        listed = client.get("/console/people").text
        assert "dorji@gov.bt" in listed
        assert "officer (drone-flight-authorization)" in listed
        _as(client, "dorji@gov.bt")
        assert client.get("/console/applications").status_code == 200
        assert client.get("/console/people").status_code == 403


def test_a_disabled_account_is_signed_out_at_once(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "admin@gov.bt", ADMIN)
        add_account(client, "dorji@gov.bt", officer())
        _as(client, "dorji@gov.bt")
        dorji = dict(client.cookies)
        _as(client, "admin@gov.bt")
        people = client.get("/console/people")
        disabled = client.post(
            "/console/people/accounts/dorji@gov.bt/disable", data={"csrf": csrf_of(people.text)}
        )
        assert disabled.status_code == 303
        own = client.post(
            "/console/people/accounts/admin@gov.bt/disable", data={"csrf": csrf_of(people.text)}
        )
        assert own.status_code == 422  # nobody locks themselves out
        client.cookies.clear()
        client.cookies.update(dorji)
        assert client.get("/console/applications").status_code == 303
        assert sign_in(client, "dorji@gov.bt").status_code == 401


def test_a_key_made_in_the_console_is_shown_once_works_and_is_refused_once_revoked(
    redis_database: RedisDatabase,
) -> None:
    # With a bootstrap key the API stays open after the revocation: a refused key is 401.
    with console_app(redis_database, admin_token="bootstrap-key-of-the-tests-7c1d9e") as client:
        add_account(client, "admin@gov.bt", ADMIN)
        reference = apply_for_drone_permit(client)
        _as(client, "admin@gov.bt")
        people = client.get("/console/people")
        made = client.post(
            "/console/people/keys",
            data={
                "csrf": csrf_of(people.text),
                "name": "back-office",
                "role": "officer",
                "service": "drone-flight-authorization",
            },
        )
        key = re.search(r'<code id="new-key">(gwk_[A-Za-z0-9_-]+)</code>', made.text)
        assert key is not None, made.text
        assert key.group(1) not in client.get("/console/people").text  # once only
        api = {"Authorization": f"Bearer {key.group(1)}"}
        assert client.get(f"/api/v1/submissions/{reference}", headers=api).status_code == 200
        revoked = client.post(
            "/console/people/keys/back-office/revoke",
            data={"csrf": csrf_of(client.get("/console/people").text)},
        )
        assert revoked.status_code == 303
        assert client.get(f"/api/v1/submissions/{reference}", headers=api).status_code == 401


def test_the_audit_log_shows_and_exports_what_happened(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "admin@gov.bt", ADMIN)
        add_account(client, "dorji@gov.bt", officer())
        reference = apply_for_drone_permit(client)
        assert sign_in(client, "dorji@gov.bt", "wrong password!!").status_code == 401
        _as(client, "dorji@gov.bt")
        page = client.get(f"/console/applications/{reference}")
        client.post(f"/console/applications/{reference}/approve", data={"csrf": csrf_of(page.text)})
        assert client.get("/console/audit").status_code == 403  # not an administrator
        _as(client, "admin@gov.bt")
        log = client.get("/console/audit").text
        for cell in ("sign_in_failed", "sign_in", "approved", reference, "dorji@gov.bt"):
            assert f"<td>{cell}</td>" in log
        only = client.get("/console/audit?action=approved").text
        assert "<td>approved</td>" in only
        assert "<td>sign_in_failed</td>" not in only
        csv = client.get("/console/audit/export?format=csv&action=approved")
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        assert "attachment" in csv.headers["content-disposition"]
        assert reference in csv.text
        lines = client.get("/console/audit/export?format=jsonl").text.strip().splitlines()
        actions = [json.loads(line)["action"] for line in lines]
        assert actions.index("sign_in_failed") < actions.index("approved")  # oldest first


def test_the_figures_are_for_analysts_and_administrators(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "sonam@gov.bt", Grant(Role.ANALYST))
        add_account(client, "dorji@gov.bt", officer())
        apply_for_drone_permit(client)
        _as(client, "dorji@gov.bt")
        assert client.get("/console/figures").status_code == 403
        _as(client, "sonam@gov.bt")
        assert client.get("/console/home").headers["location"] == "/console/figures"
        figures = client.get("/console/figures")
        assert figures.status_code == 200
        assert "Drone flight permit" in figures.text
        assert "Where citizens stop" in figures.text
        assert "Applications per day" in figures.text


def test_an_administrator_turns_off_the_codes_of_a_lost_phone(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "admin@gov.bt", ADMIN)
        add_account(client, "tashi@gov.bt", Grant(Role.PUBLISHER))
        assert client.portal is not None
        accounts = runtime(client).accounts
        client.portal.call(accounts.set_totp, "tashi@gov.bt", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        assert (
            sign_in(client, "tashi@gov.bt").headers["location"].startswith("/console/sign-in/code")
        )
        _as(client, "admin@gov.bt")
        people = client.get("/console/people")
        assert ">Turn off one-time codes (lost phone)</button>" in people.text
        off = client.post(
            "/console/people/accounts/tashi@gov.bt/codes-off", data={"csrf": csrf_of(people.text)}
        )
        assert off.status_code == 303
        client.cookies.clear()
        assert sign_in(client, "tashi@gov.bt").headers["location"] == "/console/home"
