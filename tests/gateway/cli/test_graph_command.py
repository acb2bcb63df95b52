"""`gateway graph --output`: each format written, or a clear failure (exit 1) when the
picture needs graphviz's `dot` and it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app

runner = CliRunner()


def _graph(services_dir: Path, output: Path, path: str | None = None) -> tuple[int, str]:
    env = {"GATEWAY_SERVICES_DIR": str(services_dir)}
    if path is not None:
        env["PATH"] = path
    result = runner.invoke(app, ["graph", "greeting", "--output", str(output)], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(("suffix", "start"), [("mmd", "---"), ("gv", "digraph")])
def test_sources_are_written_without_graphviz(
    services_dir: Path, tmp_path: Path, suffix: str, start: str
) -> None:
    output = tmp_path / f"greeting.{suffix}"
    code, printed = _graph(services_dir, output, path=str(tmp_path / "empty"))
    assert code == 0, printed
    assert f"wrote {output}" in printed
    text = output.read_text(encoding="utf-8")
    assert text.startswith(start)
    assert "What is your name?" in text  # the question, not only the step id


@pytest.mark.integration  # Debian's graphviz, which `make test` installs
@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_pictures_are_drawn_with_graphviz(
    graphviz: None, services_dir: Path, tmp_path: Path, suffix: str
) -> None:
    output = tmp_path / f"greeting.{suffix}"
    code, printed = _graph(services_dir, output)
    assert code == 0, printed
    assert output.stat().st_size > 0


def test_a_picture_without_graphviz_fails_with_exit_1_and_says_why(
    services_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "greeting.svg"
    code, printed = _graph(services_dir, output, path=str(tmp_path / "empty"))
    assert code == 1
    assert "`dot` program is not installed" in printed
    assert "apt-get install graphviz" in printed
    assert not output.exists()


def test_an_unknown_format_fails_with_exit_1(services_dir: Path, tmp_path: Path) -> None:
    code, printed = _graph(services_dir, tmp_path / "greeting.jpg")
    assert code == 1
    assert "unknown format '.jpg'" in printed
