"""`gateway users`: accounts made, listed, disabled and reset from the terminal.

Each test has a gateway of its own: a new SQLite database under its `var` folder, as on a
fresh install. Stored rows are read with sqlite3, not through the store under test.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner, Result

from gateway.cli.main import app

runner = CliRunner()
PASSWORD = "correct horse battery staple"
OTHER = "another long passphrase"


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "")  # unset: SQLite under var
    return tmp_path / "var"


def users(*args: str, password: str | None = None) -> Result:
    return runner.invoke(app, ["users", *args], input=None if password is None else password)


def rows(var: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(var / "gateway.db") as connection:
        return connection.execute(query).fetchall()


def test_the_first_administrator_is_made_on_a_fresh_install(var: Path) -> None:
    result = users("add", "Admin@Gov.BT", "--role", "administrator", password=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output == "added admin@gov.bt: administrator\n"
    assert PASSWORD not in result.output
    [(email, hashed, disabled)] = rows(var, "SELECT email, password_hash, disabled FROM accounts")
    assert email == "admin@gov.bt"
    assert str(hashed).startswith("$argon2id$")
    assert PASSWORD not in str(hashed)
    assert PasswordHasher().verify(str(hashed), PASSWORD)  # the line, without its newline
    assert not disabled


def test_officers_and_authors_are_limited_to_services(var: Path) -> None:
    result = users(
        "add",
        "pema@gov.bt",
        "--role",
        "officer",
        "--service",
        "births",
        "--service",
        "land",
        password=PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "officer (births, land)" in result.output
    stored = rows(var, "SELECT role, service FROM account_roles ORDER BY service")
    assert stored == [("officer", "births"), ("officer", "land")]


def test_a_service_with_another_role_is_refused(var: Path) -> None:
    result = users(
        "add", "pema@gov.bt", "--role", "officer", "--role", "publisher", "--service", "births",
        password=PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--service limits officer and author only, not publisher" in result.output
    assert not (var / "gateway.db").exists()  # refused before the database was opened


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("short one\n", "at least 12 characters"),
        ("CHANGE-ME-before-launch\n", "placeholder"),
        ("", "no password on standard input"),
    ],
)
def test_a_weak_or_missing_password_is_refused(var: Path, typed: str, reason: str) -> None:
    result = users("add", "pema@gov.bt", "--role", "analyst", password=typed)
    assert result.exit_code == 2
    assert reason in result.output
    assert typed.strip() == "" or typed.strip() not in result.output
    assert not (var / "gateway.db").exists()


def test_an_address_taken_in_another_case_is_refused(var: Path) -> None:
    assert users("add", "pema@gov.bt", "--role", "analyst", password=PASSWORD).exit_code == 0
    result = users("add", "PEMA@gov.bt", "--role", "author", password=OTHER)
    assert result.exit_code == 2
    assert "pema@gov.bt has an account already" in result.output


def test_the_list_shows_roles_status_and_last_sign_in(var: Path) -> None:
    users("add", "zangmo@gov.bt", "--role", "analyst", "--role", "publisher", password=PASSWORD)
    users("add", "karma@gov.bt", "--role", "author", "--service", "drones", password=PASSWORD)
    assert users("disable", "Zangmo@gov.bt").output == "disabled zangmo@gov.bt\n"
    result = users("list")
    assert result.exit_code == 0, result.output
    lines = [line.split("  ") for line in result.output.splitlines()]
    cells = [[cell.strip() for cell in line if cell.strip()] for line in lines]
    assert cells == [
        ["email", "roles", "status", "last sign-in"],
        ["karma@gov.bt", "author (drones)", "active", "never"],
        ["zangmo@gov.bt", "publisher, analyst", "disabled", "never"],
    ]
    assert PASSWORD not in result.output


def test_an_empty_list_says_how_to_begin(var: Path) -> None:
    result = users("list")
    assert result.exit_code == 0
    assert "gateway users add" in result.output


def test_disable_enable_and_reset(var: Path) -> None:
    users("add", "dechen@gov.bt", "--role", "officer", password=PASSWORD)
    assert users("disable", "dechen@gov.bt").exit_code == 0
    assert rows(var, "SELECT disabled FROM accounts") == [(1,)]
    assert users("enable", "DECHEN@gov.bt").output == "enabled dechen@gov.bt\n"
    assert rows(var, "SELECT disabled FROM accounts") == [(0,)]
    [(before,)] = rows(var, "SELECT password_hash FROM accounts")
    result = users("reset", "dechen@gov.bt", password=OTHER + "\n")
    assert result.exit_code == 0, result.output
    assert result.output == "new password set for dechen@gov.bt\n"
    [(after,)] = rows(var, "SELECT password_hash FROM accounts")
    assert after != before
    assert PasswordHasher().verify(str(after), OTHER)
    assert users("reset", "dechen@gov.bt", password="too short\n").exit_code == 2


def test_an_unknown_address_is_named(var: Path) -> None:
    for command in ("disable", "enable"):
        result = users(command, "nobody@gov.bt")
        assert result.exit_code == 2
        assert "no account for nobody@gov.bt" in result.output


def test_roles_are_given_and_taken_away(var: Path) -> None:
    users("add", "jigme@gov.bt", "--role", "officer", "--service", "births", password=PASSWORD)
    result = users("roles", "jigme@gov.bt", "--add", "officer", "--service", "land")
    assert result.output == "jigme@gov.bt: officer (births, land)\n"
    result = users("roles", "jigme@gov.bt", "--add", "analyst")
    assert result.output == "jigme@gov.bt: officer (births, land), analyst\n"
    result = users("roles", "jigme@gov.bt", "--remove", "officer", "--service", "births")
    assert result.output == "jigme@gov.bt: officer (land), analyst\n"
    result = users("roles", "jigme@gov.bt", "--add", "analyst")
    assert result.output == "nothing changed: held already\njigme@gov.bt: officer (land), analyst\n"
    result = users("roles", "jigme@gov.bt", "--remove", "officer")
    assert result.output == "jigme@gov.bt: analyst\n"
    assert rows(var, "SELECT role, service FROM account_roles") == [("analyst", None)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add", "analyst", "--service", "births"], "not analyst"),
        (["--add", "analyst", "--remove", "author"], "one of --add ROLE or --remove ROLE"),
        ([], "one of --add ROLE or --remove ROLE"),
    ],
)
def test_a_roles_change_that_makes_no_sense_is_refused(
    var: Path, args: list[str], message: str
) -> None:
    users("add", "jigme@gov.bt", "--role", "officer", password=PASSWORD)
    result = users("roles", "jigme@gov.bt", *args)
    assert result.exit_code == 2
    assert message in result.output
