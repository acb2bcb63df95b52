"""The generated reference, the schema file and the authoring guide stay true to the code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.conversation_tests import parse_tests, run_file
from dialogs.definition import Commands
from dialogs.loader import load_text
from dialogs.reference import (
    END_MARKER,
    START_MARKER,
    ReferenceMarkersError,
    reference_markdown,
    replace_reference,
    step_doc,
)
from dialogs.schema import json_schema, json_schema_text
from dialogs.steps import STEP_TYPES, StepBase
from gateway.catalog.repository import load_lists, load_repository
from gateway.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "authoring.md"
SCHEMA_FILE = ROOT / "schema" / "service.schema.json"
LISTS_DIR = ROOT / "services" / "lists"

runner = CliRunner()


def _section(markdown: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = markdown.index(heading + "\n")
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE)
    match = following.search(markdown, start + len(heading))
    return markdown[start : match.start() if match else len(markdown)]


def _guide_block(marker: str) -> str:
    """The YAML block that follows `<!-- example:<marker> -->` in the guide."""
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- example:{marker} -->\n```yaml\n(.*?)```", text, re.DOTALL)
    assert match is not None, f"no example:{marker} block in {GUIDE}"
    return match.group(1)


# ----------------------------------------------------------------------------- up to date


def test_guide_reference_section_is_up_to_date() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert replace_reference(text) == text, "run `gateway docs` to update docs/authoring.md"


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "run `gateway docs` to update schema/service.schema.json"
    )


# ----------------------------------------------------------------------------- content


def test_every_step_type_and_its_fields_are_in_the_reference() -> None:
    markdown = reference_markdown()
    schema = json_schema()
    for name, cls in STEP_TYPES.items():
        assert f"[`{name}`](#ref-step-{name})" in markdown  # the overview table
        assert f'<a id="ref-step-{name}"></a>' in markdown
        section = _section(markdown, f"#### `{name}`")
        for field in schema["$defs"][cls.__name__]["properties"]:
            assert f"| `{field}` |" in section, (name, field)
        assert "```yaml" in section, f"no example for {name}"


def test_top_level_fields_are_in_the_reference() -> None:
    section = _section(reference_markdown(), "### The service file")
    required = set(json_schema()["required"])
    for field in json_schema()["properties"]:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{field}` |"))
        assert ("**required**" in row) == (field in required), row


def test_builtin_texts_and_commands_are_listed() -> None:
    markdown = reference_markdown()
    texts = _section(markdown, "### Built-in messages")
    for key in BUILTIN_TEXTS:
        assert f"| `{key}` |" in texts
    commands = _section(markdown, "### Global commands")
    defaults = Commands()
    for name in Commands.model_fields:
        row = next(line for line in commands.splitlines() if line.startswith(f"| `{name}` |"))
        for word in getattr(defaults, name):
            assert f"`{word}`" in row


def test_every_link_inside_the_reference_has_its_anchor() -> None:
    markdown = reference_markdown()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    links = set(re.findall(r"\]\(#([^)]+)\)", markdown))
    assert links <= anchors, links - anchors


def test_every_table_row_has_as_many_cells_as_its_header() -> None:
    """A `|` inside a description would add a column: it must be escaped."""
    tables: list[list[str]] = []
    previous_was_row = False
    for line in reference_markdown().splitlines():
        is_row = line.startswith("|")
        if is_row and not previous_was_row:
            tables.append([])
        if is_row:
            tables[-1].append(line)
        previous_was_row = is_row
    assert len(tables) > len(STEP_TYPES)
    for table in tables:
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table


# ----------------------------------------------------------------------------- examples


@pytest.mark.parametrize("name", list(STEP_TYPES))
def test_step_docstring_example_validates(name: str) -> None:
    """Each step module's YAML example is valid, on its own and inside a service.

    The examples are fragments: their `next`, `goto` and `on_error` name steps that are not
    in the fragment, so only the format is checked here (the loader, with the real shared
    lists for `options_from`), not the cross-step references the checker looks at.
    """
    cls: type[StepBase] = STEP_TYPES[name]
    example = step_doc(cls).example
    assert example is not None, f"the docstring of {cls.__module__} has no ```yaml example"
    steps: Any = yaml.safe_load(example)
    assert isinstance(steps, list)
    assert steps
    own = [step for step in steps if step.get("type") == name]
    assert own, f"the example of `{name}` shows no step of that type"
    for step in own:
        data = dict(step)
        if data.get("options_from"):
            data.pop("options_from")  # a shared list is resolved by the loader, below
            data["options"] = ["One", "Two"]
        cls.model_validate(data)
    service = {"format": 1, "id": "example", "version": 1, "title": "Example", "steps": steps}
    lists, list_problems = load_lists(LISTS_DIR)
    assert list_problems == []
    loaded = load_text(yaml.safe_dump(service, allow_unicode=True), "example.yaml", lists)
    assert loaded.problems == []
    assert loaded.definition is not None


def test_guide_yaml_blocks_parse() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert len(blocks) > 10
    for block in blocks:
        yaml.safe_load(block)


def test_guide_example_service_checks_and_passes_its_tests(tmp_path: Path) -> None:
    services = tmp_path / "services"
    shutil.copytree(LISTS_DIR, services / "lists")
    (services / "birth-certificate-copy.yaml").write_text(_guide_block("service"), encoding="utf-8")
    repository = load_repository([services])
    errors = [p.format() for p in repository.problems if p.severity == "error"]
    assert errors == []
    tests, problems = parse_tests(_guide_block("tests"), "birth-certificate-copy.tests.yaml")
    assert problems == []
    assert tests is not None
    results = run_file(repository.catalog, tests)
    assert results
    failures = [f"{r.case} [{r.medium}]: {f}" for r in results for f in r.failures]
    assert failures == []


# ----------------------------------------------------------------------------- replace


def test_replace_reference_keeps_the_text_around_the_markers() -> None:
    document = f"# Guide\n\nBefore.\n\n{START_MARKER}\nstale\n{END_MARKER}\n\nAfter.\n"
    replaced = replace_reference(document)
    assert replaced.startswith(f"# Guide\n\nBefore.\n\n{START_MARKER}\n")
    assert replaced.endswith(f"{END_MARKER}\n\nAfter.\n")
    assert "stale" not in replaced
    assert reference_markdown() in replaced
    assert replace_reference(replaced) == replaced


@pytest.mark.parametrize(
    "document",
    ["no markers at all", f"{START_MARKER} only", f"{END_MARKER}\n{START_MARKER}\n"],
)
def test_replace_reference_needs_both_markers_in_order(document: str) -> None:
    with pytest.raises(ReferenceMarkersError):
        replace_reference(document)


# ----------------------------------------------------------------------------- cli


def test_cli_docs_check_passes_on_the_repository() -> None:
    result = runner.invoke(
        app, ["docs", "--check", "--path", str(GUIDE), "--schema", str(SCHEMA_FILE)]
    )
    assert result.exit_code == 0, result.output
    assert "out of date" not in result.output


def test_cli_docs_check_fails_on_stale_files_then_docs_fixes_them(tmp_path: Path) -> None:
    guide = tmp_path / "authoring.md"
    stale = f"# Guide\n\n{START_MARKER}\nold reference\n{END_MARKER}\n"
    guide.write_text(stale, encoding="utf-8")
    schema = tmp_path / "schema" / "service.schema.json"
    arguments = ["docs", "--path", str(guide), "--schema", str(schema)]

    result = runner.invoke(app, [*arguments, "--check"])
    assert result.exit_code == 1, result.output
    assert f"{guide}: out of date" in result.output
    assert f"{schema}: out of date" in result.output
    assert guide.read_text(encoding="utf-8") == stale
    assert not schema.exists()

    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert guide.read_text(encoding="utf-8") == replace_reference(stale)
    assert schema.read_text(encoding="utf-8") == json_schema_text()

    result = runner.invoke(app, [*arguments, "--check"])
    assert result.exit_code == 0, result.output


def test_cli_docs_refuses_a_guide_without_markers(tmp_path: Path) -> None:
    guide = tmp_path / "authoring.md"
    guide.write_text("# Guide without markers\n", encoding="utf-8")
    schema = tmp_path / "schema.json"
    result = runner.invoke(app, ["docs", "--path", str(guide), "--schema", str(schema)])
    assert result.exit_code == 2
    assert guide.read_text(encoding="utf-8") == "# Guide without markers\n"
    assert not schema.exists()


def test_cli_schema_prints_a_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed == json_schema()
