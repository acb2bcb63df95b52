"""`gateway check --stats`: time to finish each service, and the USSD session warnings."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app

runner = CliRunner()


def test_stats_print_a_table_per_service(services_dir: Path) -> None:
    result = runner.invoke(app, ["check", str(services_dir), "--stats"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "greeting v2: 1 path(s)" in lines
    header = lines.index("greeting v2: 1 path(s)") + 1
    assert lines[header].split()[:3] == ["channel", "lang", "screens"]
    channels = [line.split()[0] for line in lines[header + 1 : header + 6]]
    assert channels == ["ussd", "sms", "whatsapp", "telegram", "web"]
    assert "USSD session: 180 s" in result.output
    assert "W42" not in result.output  # three questions fit a session


def test_no_stats_without_the_option(services_dir: Path) -> None:
    result = runner.invoke(app, ["check", str(services_dir)])
    assert "path(s)" not in result.output


def test_a_short_ussd_timeout_warns_at_the_service_id(services_dir: Path) -> None:
    result = runner.invoke(app, ["check", str(services_dir), "--stats", "--ussd-timeout", "5"])
    assert result.exit_code == 0, result.output  # a warning, not an error
    assert "greeting.yaml:2:5: W421 warning:" in result.output
    assert "of the operator's 5 s session" in result.output
    assert "1 definition(s): 0 error(s), 1 warning(s)" in result.output
