"""`gateway keys`: API keys made, listed and revoked from the terminal, and the audit log
of that and of `gateway users`.

Each test has a gateway of its own: a new SQLite database under its `var` folder, as on a
fresh install. Stored rows are read with sqlite3, not through the stores under test.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from gateway.cli.main import app

runner = CliRunner()
PASSWORD = "correct horse battery staple"
ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "")  # unset: SQLite under var
    return tmp_path / "var"


def cli(*args: str, password: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=password)


def rows(var: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(var / "gateway.db") as connection:
        return connection.execute(query).fetchall()


def audit(var: Path) -> list[tuple[object, ...]]:
    return rows(var, "SELECT actor, action, target, detail FROM audit_log ORDER BY id")


def test_a_key_is_printed_once_and_stored_as_its_hash(var: Path) -> None:
    result = cli("keys", "add", "Back-Office", "--role", "officer", "--service", "births")
    assert result.exit_code == 0, result.output
    first, secret = result.stdout.splitlines()
    assert first == "added key back-office: officer (births)"
    assert secret.startswith("gwk_")
    assert "will not be shown again" in result.stderr
    [(name, prefix, hashed, created_by)] = rows(
        var, "SELECT name, prefix, secret_hash, created_by FROM api_keys"
    )
    assert (name, prefix, created_by) == ("back-office", secret[:12], ACTOR)
    assert hashed == hashlib.sha256(secret.encode()).hexdigest()
    assert rows(var, "SELECT role, service FROM api_key_grants") == [("officer", "births")]
    listed = cli("keys", "list")
    assert secret not in listed.output
    assert secret[:12] in listed.output
    [(actor, action, target, detail)] = audit(var)
    assert (actor, action, target) == (ACTOR, "key_created", "back-office")
    assert json.loads(str(detail)) == {"grants": [{"role": "officer", "service": "births"}]}


def test_the_list_shows_roles_status_and_last_use(var: Path) -> None:
    assert cli("keys", "list").output.startswith("no keys: make one with `gateway keys add")
    cli("keys", "add", "dashboard", "--role", "analyst")
    cli("keys", "add", "ci", "--role", "publisher", "--role", "author")
    assert cli("keys", "revoke", "CI").output == "revoked key ci\n"
    result = cli("keys", "list")
    assert result.exit_code == 0, result.output
    cells = [
        [c.strip() for c in line.split("  ") if c.strip()] for line in result.output.splitlines()
    ]
    assert [row[0] for row in cells] == ["name", "ci", "dashboard"]
    assert cells[1][2:] == ["author, publisher", "revoked", ACTOR, "never"]
    assert cells[2][2:] == ["analyst", "active", ACTOR, "never"]


def test_revoking_is_recorded_once_and_keeps_the_key(var: Path) -> None:
    cli("keys", "add", "dashboard", "--role", "analyst")
    assert cli("keys", "revoke", "dashboard").exit_code == 0
    again = cli("keys", "revoke", "dashboard")
    assert again.exit_code == 0
    assert again.output == "key dashboard was revoked already\n"
    [(revoked_at,)] = rows(var, "SELECT revoked_at FROM api_keys")
    assert revoked_at is not None
    assert [row[1] for row in audit(var)] == ["key_created", "key_revoked"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "back office", "--role", "analyst"], "is not a key name"),
        (["add", "ci", "--role", "publisher", "--service", "births"], "not publisher"),
        (["revoke", "ghost"], "no key named ghost"),
    ],
)
def test_refusals_exit_2_with_their_reason(var: Path, args: list[str], message: str) -> None:
    result = cli("keys", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_taken_name_is_refused(var: Path) -> None:
    cli("keys", "add", "dashboard", "--role", "analyst")
    result = cli("keys", "add", "Dashboard", "--role", "administrator")
    assert result.exit_code == 2
    assert "a key named dashboard exists already" in result.stderr
    assert rows(var, "SELECT count(*) FROM api_keys") == [(1,)]
    assert len(audit(var)) == 1


def test_users_commands_are_recorded_in_the_audit_log(var: Path) -> None:
    email = "pema@gov.bt"
    assert cli("users", "add", "Pema@gov.bt", "--role", "officer", password=PASSWORD).exit_code == 0
    cli("users", "disable", email)
    cli("users", "enable", email)
    cli("users", "reset", email, password="a brand new passphrase")
    cli("users", "roles", email, "--add", "officer", "--service", "births")  # held: no event
    cli("users", "roles", email, "--add", "analyst")
    cli("users", "roles", email, "--remove", "analyst")
    cli("users", "roles", email, "--remove", "publisher")  # not held: no event
    cli("users", "disable", "nobody@gov.bt")  # refused: no event
    entries = audit(var)
    assert [(actor, action, target) for actor, action, target, _ in entries] == [
        (ACTOR, "account_created", email),
        (ACTOR, "account_disabled", email),
        (ACTOR, "account_enabled", email),
        (ACTOR, "password_reset", email),
        (ACTOR, "role_granted", email),
        (ACTOR, "role_revoked", email),
    ]
    details = [json.loads(str(detail)) if detail else None for *_, detail in entries]
    assert details[0] == {"grants": [{"role": "officer", "service": None}]}
    assert details[4] == {"grants": [{"role": "analyst", "service": None}]}
    assert PASSWORD not in json.dumps(details)
