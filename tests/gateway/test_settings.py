"""Settings (`gateway.settings`): secrets that are real or absent, rates and countries
checked at start, and `gateway serve` refusing to start on a bad secret.

Each test runs in an empty folder (no `.env`) with no `GATEWAY_*` variable but its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.settings import Settings, rates
from tests.state import free_port

REAL = "9b1f3c5e7a0d2f4b6c8e0a1c3e5f7b9d"  # what `openssl rand -hex 16` prints
SECRETS = sorted(
    name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
)


def is_rate(value: object) -> bool:
    """Whether `value` is a rate in the limits notation ("30/minute;600/day")."""
    try:
        rates(str(value))
    except ValueError:
        return False
    return True


# The settings whose shipped value is a rate: each must be refused at start when wrong.
RATES = [name for name, field in Settings.model_fields.items() if is_rate(field.default)]
PLACEHOLDERS = [
    "CHANGE-ME",
    "change-me-before-going-live-2026",
    "CHANGEME",
    "changeme",
    "change_me_please_now_thanks",
    "replace-me",
    "REPLACE_ME_WITH_THE_REAL_TOKEN",
    "your-admin-token-goes-here",
    "your_token",
    "example",
    "example-secret-0123456789abcdef",
    "todo",
    "TODO: generate with openssl rand",
    "fixme-0123456789abcdef",
    "placeholder-0123456789abcdef",
    "xxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "<admin token>",
    "<set-me-from-the-vault-please>",
]


def variable(name: str) -> str:
    return f"GATEWAY_{name.upper()}"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith("GATEWAY_"):
            monkeypatch.delenv(name)


def refusal(**values: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return caught.value


def test_there_are_secrets_to_check() -> None:
    assert {"admin_token", "ussd_token", "twilio_auth_token", "meta_app_secret"} <= set(SECRETS)


# ----------------------------------------------------------------------- secrets
def test_secrets_are_unset_by_default() -> None:
    settings = Settings()
    for name in SECRETS:
        assert getattr(settings, name) is None, name


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize("value", ["", " ", "\t \n"])
def test_an_empty_or_blank_secret_variable_is_unset(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(variable(name), value)
    assert getattr(Settings(), name) is None


def test_an_empty_secret_in_the_env_file_is_unset(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GATEWAY_ADMIN_TOKEN=\nGATEWAY_USSD_TOKEN=   \n")
    settings = Settings()
    assert settings.admin_token is None
    assert settings.ussd_token is None


@pytest.mark.parametrize("name", SECRETS)
def test_a_real_secret_is_kept_and_never_printed(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(variable(name), REAL)
    settings = Settings()
    value = getattr(settings, name)
    assert isinstance(value, SecretStr)
    assert value.get_secret_value() == REAL
    assert REAL not in repr(settings)
    assert REAL not in str(settings)


@pytest.mark.parametrize("name", SECRETS)
def test_a_placeholder_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(variable(name), "CHANGE-ME-before-production")
    with pytest.raises(ValidationError, match=f"{variable(name)} is a placeholder"):
        Settings()


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_every_kind_of_placeholder_is_refused(value: str) -> None:
    error = refusal(admin_token=value)
    assert "GATEWAY_ADMIN_TOKEN is a placeholder" in str(error)
    assert value not in str(error)
    assert value not in repr(error)


def test_a_placeholder_with_surrounding_blanks_is_refused() -> None:
    assert "placeholder" in str(refusal(admin_token="  changeme-please-0123456789  "))


@pytest.mark.parametrize("name", SECRETS)
def test_a_short_secret_names_the_variable_and_its_length(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(variable(name), "s3cr3t-pass")
    with pytest.raises(ValidationError) as caught:
        Settings()
    text = str(caught.value)
    assert f"{variable(name)} is 11 characters" in text
    assert "at least 16" in text
    assert "s3cr3t-pass" not in text
    assert "s3cr3t-pass" not in repr(caught.value)


def test_sixteen_characters_is_enough_and_fifteen_is_not() -> None:
    assert Settings(admin_token="q" * 7 + "3" * 9).admin_token is not None
    assert "is 15 characters" in str(refusal(admin_token="q" * 6 + "3" * 9))


def test_blanks_around_a_short_secret_do_not_lengthen_it() -> None:
    assert "is 10 characters" in str(refusal(admin_token="   0123456789     "))


def test_the_first_bad_secret_stops_the_start_and_no_value_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", REAL)
    monkeypatch.setenv("GATEWAY_META_APP_SECRET", "tiny-secret")
    with pytest.raises(ValidationError) as caught:
        Settings()
    text = str(caught.value)
    assert "GATEWAY_META_APP_SECRET" in text
    assert "tiny-secret" not in text
    assert REAL not in text


# ----------------------------------------------------------------------- rates
@pytest.mark.parametrize("value", ["30/minute;600/day", "5/second", "30 per minute, 600/day"])
def test_rates_in_the_limits_notation_are_accepted(value: str) -> None:
    assert Settings(budget_per_range=value).budget_per_range == value


def test_there_are_rates_to_check() -> None:
    assert {"inbound_per_address", "budget_total", "admin_failures_per_client"} <= set(RATES)


@pytest.mark.parametrize("name", RATES)
def test_a_shipped_rate_is_valid(name: str) -> None:
    assert Settings().model_dump()[name]


@pytest.mark.parametrize("name", RATES)
@pytest.mark.parametrize("value", ["lots", "", "30/fortnight", "30/minute;", "-1/minute"])
def test_a_wrong_rate_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(variable(name), value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert [error["loc"] for error in caught.value.errors()] == [(name,)]


# ----------------------------------------------------------------------- countries
def test_bhutan_is_the_default_country() -> None:
    assert Settings().allowed_countries == ["BT"]


def test_countries_are_upper_cased_and_trimmed() -> None:
    assert Settings(allowed_countries=[" bt", "in ", "Np"]).allowed_countries == ["BT", "IN", "NP"]


def test_countries_come_from_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ALLOWED_COUNTRIES", '["bt", "IN"]')
    assert Settings().allowed_countries == ["BT", "IN"]


def test_a_star_allows_every_country() -> None:
    assert Settings(allowed_countries=["*"]).allowed_countries == ["*"]


@pytest.mark.parametrize("codes", [["BTN"], ["Bhutan"], ["B"], ["B1"], [""], ["**"], ["BT", "?"]])
def test_what_is_not_an_iso_code_stops_the_start(codes: list[str]) -> None:
    error = refusal(allowed_countries=codes)
    assert "not ISO 3166 country codes" in str(error)


# ----------------------------------------------------------------------- gateway serve
runner = CliRunner()


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """uvicorn.run replaced: a test that reached it would start a real server."""
    started: list[object] = []

    def run(*args: object, **kwargs: object) -> None:
        started.append(args)

    monkeypatch.setattr(uvicorn, "run", run)
    return started


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("GATEWAY_ADMIN_TOKEN", "CHANGE-ME-before-production", "is a placeholder"),
        ("GATEWAY_ADMIN_TOKEN", "your-admin-token-here", "is a placeholder"),
        ("GATEWAY_TELEGRAM_BOT_TOKEN", "123456:short", "is 12 characters"),
        ("GATEWAY_META_APP_SECRET", "<the app secret>", "is a placeholder"),
        ("GATEWAY_USSD_TOKEN", "abc123", "is 6 characters"),
    ],
)
def test_serve_exits_2_naming_a_bad_secret(
    no_server: list[object], name: str, value: str, says: str
) -> None:
    result = runner.invoke(app, ["serve", "--port", "1"], env={name: value})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"gateway: {name} {says}")
    assert value not in result.output
    assert value not in result.stderr
    assert no_server == []


def test_serve_exits_2_on_a_wrong_rate(no_server: list[object]) -> None:
    result = runner.invoke(app, ["serve"], env={"GATEWAY_BUDGET_PER_RANGE": "lots"})
    assert result.exit_code == 2
    assert result.stderr.startswith("gateway: ")
    assert no_server == []


def test_serve_starts_with_real_secrets(no_server: list[object]) -> None:
    result = runner.invoke(app, ["serve", "--port", "1"], env={"GATEWAY_ADMIN_TOKEN": REAL})
    assert result.exit_code == 0, result.output
    assert no_server == [("gateway.app:create_app",)]


@pytest.mark.integration  # a gateway process
def test_the_gateway_command_refuses_a_short_secret_before_listening(tmp_path: Path) -> None:
    """The installed command, in a process of its own: exit 2 before uvicorn starts."""
    command = Path(sys.executable).with_name("gateway")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("GATEWAY_")}
    environment["GATEWAY_TWILIO_AUTH_TOKEN"] = "twilio-s3cret"
    done = subprocess.run(
        [str(command), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "gateway: GATEWAY_TWILIO_AUTH_TOKEN is 13 characters: a secret needs at least 16 "
        "(e.g. `openssl rand -hex 24`)"
    )
    assert "twilio-s3cret" not in done.stdout + done.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))  # nobody listened on it
