"""The `gateway` command, driven through Typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app

runner = CliRunner()


def test_check_accepts_a_valid_folder(services_dir: Path) -> None:
    result = runner.invoke(app, ["check", str(services_dir)])
    assert result.exit_code == 0, result.output
    assert "1 definition(s): 0 error(s), 0 warning(s)" in result.output


def test_check_reports_file_line_column_and_fails(services_dir: Path) -> None:
    broken = services_dir / "broken.yaml"
    broken.write_text(
        "format: 1\nid: broken\nversion: 1\ntitle: Broken\nsteps:\n"
        "  - id: first\n    type: text\n    prompt: Hi\n    next: nowhere\n"
        "  - id: done\n    type: end\n    prompt: Bye\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:9:11: E201 error: unknown step 'nowhere'" in result.output
    assert "hint:" in result.output


def test_check_reports_yaml_syntax_errors_with_their_line(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yaml"
    broken.write_text("format: 1\nid: bad\ntitle: [unclosed\nsteps: []\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:4:" in result.output
    assert "E001 error: YAML syntax" in result.output


def test_test_command_runs_conversation_tests(services_dir: Path) -> None:
    result = runner.invoke(app, ["test", str(services_dir)])
    assert result.exit_code == 0, result.output
    assert "PASS greeting.tests.yaml :: says hello [ussd]" in result.output
    assert "2 passed, 0 failed" in result.output


def test_test_command_prints_a_readable_diff_on_failure(services_dir: Path) -> None:
    tests = services_dir / "greeting.tests.yaml"
    tests.write_text(
        tests.read_text(encoding="utf-8").replace(
            "screen: Kuzuzangpo Pema of Thimphu!", "screen: Kuzuzangpo Pema of Paro!"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["test", str(services_dir), "--channel", "ussd"])
    assert result.exit_code == 1
    assert "FAIL greeting.tests.yaml :: says hello [ussd]" in result.output
    assert "-Kuzuzangpo Pema of Paro!" in result.output
    assert "+Kuzuzangpo Pema of Thimphu!" in result.output
    assert "0 passed, 1 failed" in result.output


def test_simulate_reads_answers_from_a_pipe(services_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "greeting", "--channel", "ussd"],
        input="Pema\n98\n14\n",
        env={"GATEWAY_SERVICES_DIR": str(services_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "ussd · 18/182 chars · SMS: 1 part GSM-7" in result.output  # "What is your name?"
    assert "98. More" in result.output
    assert "Kuzuzangpo Pema of Thimphu!" in result.output
    assert "[conversation ended; answers: {'name': 'Pema', 'district': 'thimphu'}]" in (
        result.output
    )


def test_simulate_refuses_an_unknown_service(services_dir: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "nope"], env={"GATEWAY_SERVICES_DIR": str(services_dir)}
    )
    assert result.exit_code == 2
    assert "unknown service 'nope'" in result.output


def test_graph_prints_mermaid(services_dir: Path, tmp_path: Path) -> None:
    picture = tmp_path / "greeting.svg"
    result = runner.invoke(
        app,
        ["graph", "greeting", "--output", str(picture)],
        env={"GATEWAY_SERVICES_DIR": str(services_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "stateDiagram-v2" in result.output
    assert "name --> district: next" in result.output
    assert "district --> bye: next" in result.output
    # graphviz is optional: either the picture is written or the reason is given.
    assert picture.exists() or "graphviz" in result.output
