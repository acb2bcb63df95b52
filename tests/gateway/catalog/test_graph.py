"""`gateway graph`'s diagrams: what they show, and each format written (or refused, said why)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from dialogs.compiler import CompiledService, compile_service
from dialogs.loader import load_text
from gateway.catalog.graph import GraphError, dot, mermaid, question, write

SERVICE = """\
format: 1
id: permit
version: 3
title: {en: A permit, dz: ཆོག་ཐམ}
languages: [en, dz]
steps:
  - id: cid
    type: national_id
    prompt: {en: Enter your citizenship ID (11 digits), dz: ངོ་སྤྲོད་ལག་ཁྱེར་ཨང་}
  - id: citizen
    type: lookup
    url: "https://census.example.gov.bt/{{ answers.cid }}"
    timeout: 3
    fields: [name]
    on_error: refused
    next: kind
  - id: kind
    type: choice
    prompt:
      en: >-
        {% if answers.citizen.name %}Hello {{ answers.citizen.name }}. {% endif %}Which
        kind of permit do you need today?
      dz: ཆོག་ཐམ
    options:
      - {value: short, label: Short}
      - {value: long, label: Long}
    next:
      - if: answers.kind == "short"
        goto: granted
      - goto: refused
  - id: granted
    type: end
    prompt: {en: Your permit is granted., dz: ཆོག་ཐམ་ཐོབ།}
  - id: refused
    type: end
    prompt: {en: We cannot grant it., dz: མ་ཐོབ།}
"""


@pytest.fixture
def service() -> CompiledService:
    loaded = load_text(textwrap.dedent(SERVICE), "permit.yaml")
    assert loaded.definition is not None, [p.format() for p in loaded.problems]
    return compile_service(loaded.definition)


def test_mermaid_shows_each_question_the_moves_and_the_ends(service: CompiledService) -> None:
    text = mermaid(service)
    assert text.startswith("---\ntitle: A permit (v3)\n---\nstateDiagram-v2")
    assert "  cid : Enter your citizenship ID (11 digits)" in text
    assert "  citizen : (lookup)" in text  # an effect says nothing: its type is shown
    assert "  granted : Your permit is granted." in text
    assert "  [*] --> cid" in text
    assert "  citizen --> refused: fail" in text
    assert '  kind --> granted: next [answers.kind == "short"]' in text
    assert "  granted --> [*]" in text
    assert "  refused --> [*]" in text
    assert "  class granted,refused ending" in text


def test_dot_shows_each_question_and_draws_the_ends_with_a_double_border(
    service: CompiledService,
) -> None:
    text = dot(service)
    assert text.startswith('digraph "permit" {')
    assert '"cid" [label="cid\\nEnter your citizenship ID (11 digits)"];' in text
    assert '"granted" [label="granted\\nYour permit is granted.", peripheries=2' in text
    assert '"kind" [label="kind\\nHello …. Which kind of' in text
    assert "peripheries" not in text.split('"kind" [')[1].split("\n")[0]
    assert '__start -> "cid";' in text
    assert '"kind" -> "granted" [label="next [answers.kind == \\"short\\"]"];' in text
    assert '"citizen" -> "refused" [label="fail", color=firebrick];' in text


def test_a_question_is_shortened_and_its_template_left_out(service: CompiledService) -> None:
    shown = question(service.steps["kind"])
    assert "{%" not in shown
    assert "{{" not in shown
    assert shown.startswith("Hello …. Which kind")
    assert len(shown) == 40
    assert shown.endswith("…")


@pytest.mark.parametrize(
    ("name", "first_line"),
    [
        ("flow.mmd", "---"),
        ("flow.mermaid", "---"),
        ("flow.dot", 'digraph "permit" {'),
        ("flow.gv", 'digraph "permit" {'),
    ],
)
def test_source_formats_need_nothing_installed(
    service: CompiledService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    first_line: str,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    output = tmp_path / name
    assert write(service, output).startswith(f"wrote {output}")
    assert output.read_text(encoding="utf-8").splitlines()[0] == first_line


def _fake_dot(folder: Path, script: str) -> None:
    folder.mkdir()
    program = folder / "dot"
    program.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    program.chmod(0o755)


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_pictures_are_drawn_by_dot_from_the_dot_source(
    service: CompiledService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    # A stand-in `dot` that records its arguments and input: the call, whatever is installed.
    _fake_dot(tmp_path / "bin", f'echo "$@" > {tmp_path}/args\ncat\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    output = tmp_path / f"flow.{suffix}"
    assert write(service, output) == f"wrote {output}"
    assert (tmp_path / "args").read_text().split() == [f"-T{suffix}"]
    assert output.read_text(encoding="utf-8") == dot(service)


@pytest.mark.integration  # Debian's graphviz, which `make test` installs
@pytest.mark.parametrize(
    ("suffix", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")]
)
def test_graphviz_draws_each_picture_format(
    graphviz: None, service: CompiledService, tmp_path: Path, suffix: str, magic: bytes
) -> None:
    output = tmp_path / f"flow.{suffix}"
    write(service, output)
    assert output.read_bytes().startswith(magic)


def test_a_picture_without_dot_is_refused_saying_how_to_install_it(
    service: CompiledService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    output = tmp_path / "flow.svg"
    with pytest.raises(GraphError, match="`dot` program is not installed") as refused:
        write(service, output)
    assert "apt-get install graphviz" in str(refused.value)
    assert "flow.dot" in str(refused.value)  # what works without it
    assert not output.exists()


def test_dot_failing_is_reported_with_its_message(
    service: CompiledService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dot(tmp_path / "bin", 'echo "syntax error in line 3" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(GraphError, match="dot failed: syntax error in line 3"):
        write(service, tmp_path / "flow.png")


def test_an_unknown_format_is_refused_naming_the_known_ones(
    service: CompiledService, tmp_path: Path
) -> None:
    with pytest.raises(GraphError, match=r"unknown format '\.jpg'.*\.mmd.*\.svg"):
        write(service, tmp_path / "flow.jpg")
