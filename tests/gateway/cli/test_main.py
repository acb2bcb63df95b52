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
    source = tmp_path / "greeting.dot"  # needs nothing installed (pictures: test_graph_command)
    result = runner.invoke(
        app,
        ["graph", "greeting", "--output", str(source)],
        env={"GATEWAY_SERVICES_DIR": str(services_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "stateDiagram-v2" in result.output
    assert "name --> district: next" in result.output
    assert "district --> bye: next" in result.output
    assert source.read_text(encoding="utf-8").startswith('digraph "greeting"')


def test_check_reports_the_mistakes_of_the_tests_beside_the_definitions(
    services_dir: Path,
) -> None:
    tests = services_dir / "greeting.tests.yaml"
    tests.write_text(
        tests.read_text(encoding="utf-8").replace("district: thimphu", "distrct: thimphu"),
        encoding="utf-8",
    )
    for target in (services_dir, services_dir / "greeting.yaml", tests):
        result = runner.invoke(app, ["check", str(target)])
        assert result.exit_code == 1, result.output
        assert f"{tests}:12:27: E381 error: unknown step 'distrct'" in result.output
        assert "Did you mean 'district'?" in result.output


def test_check_counts_missing_translations_per_language(services_dir: Path) -> None:
    greeting = services_dir / "greeting.yaml"
    greeting.write_text(
        greeting.read_text(encoding="utf-8").replace(
            "title: Say hello\n", "title: {en: Say hello, dz: ཀུ་ཟུ་}\nlanguages: [en, dz]\n"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(services_dir)])
    assert result.exit_code == 0, result.output
    # One warning per step, naming what lacks Dzongkha (the shared list has it).
    assert result.output.count("W240") == 3
    assert "step 'district': no translation in dz (prompt); English is shown" in result.output
    assert "dz: 3 texts missing\n" in result.output

    quiet = runner.invoke(app, ["check", "--errors-only", str(services_dir)])
    assert quiet.exit_code == 0, quiet.output
    assert "W240" not in quiet.output
    assert "texts missing" not in quiet.output
    counts = result.output.splitlines()[-1]  # "1 definition(s): 0 error(s), N warning(s)"
    assert quiet.output.splitlines()[-1] == counts + " (hidden)"


def test_test_command_names_a_refused_service_once_per_file(services_dir: Path) -> None:
    greeting = services_dir / "greeting.yaml"
    greeting.write_text(
        greeting.read_text(encoding="utf-8").replace("answers.name", "answers.nam"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["test", str(services_dir)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{services_dir / 'greeting.tests.yaml'}: service greeting is refused by the checker,"
        " see `gateway check`",
        "0 passed, 1 failed",
    ]


def test_test_command_reports_an_unknown_service_once(services_dir: Path) -> None:
    tests = services_dir / "greeting.tests.yaml"
    tests.write_text(
        tests.read_text(encoding="utf-8").replace("service: greeting", "service: greting"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["test", str(services_dir)])
    assert result.exit_code == 1
    assert result.output.count("unknown service 'greting'") == 1
    assert f"{tests}:1:10: E380 error" in result.output
    assert "0 passed, 1 failed" in result.output
