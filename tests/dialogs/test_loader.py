"""The loader: YAML and schema problems, each on the line a civil servant must fix."""

from __future__ import annotations

import pytest

from dialogs.loader import CODES, Lists, SharedList, load_text, parse_list
from dialogs.problems import has_errors
from dialogs.steps.choice import ChoiceStep
from dialogs.yaml_source import UNCLOSED_QUOTE

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\nsteps:\n"  # steps start on line 6
LISTS: Lists = {
    "districts": ["Paro", "Thimphu"],
    "broken": SharedList([], "lists/broken.yaml", broken=True),
}

# (code, definition text, line, column) of the one problem expected.
CASES = [
    ("E001", HEAD + "  - id: a\n    type: text\n   prompt: x\n", 8, 4),  # bad indentation
    ("E001", HEAD + '  - id: a\n    type: text\n    prompt: "open\n  - id: b\n', 8, 13),
    ("E002", HEAD + "  - id: a\n    type: text\n    prompt: x\n    prompt: y\n", 9, 5),
    ("E004", "# only a comment\n", 1, 1),
    (
        "E005",
        HEAD + "  - id: a\n    type: choice\n    prompt: x\n    options: [A]\n"
        "    options_from: districts\n",
        10,
        19,
    ),
    ("E006", HEAD + "  - id: a\n    type: choice\n    prompt: x\n    options_from: nope\n", 9, 19),
    (
        "E016",
        HEAD + "  - id: a\n    type: choice\n    prompt: x\n    options_from: broken\n",
        9,
        19,
    ),
    ("E010", HEAD + "  - id: a\n    type: text\n  - id: b\n    type: end\n    prompt: x\n", 6, 5),
    ("E010", "format: 1\nid: x1\nversion: 1\nsteps: [{id: a, type: end, prompt: x}]\n", 1, 1),
    ("E011", HEAD + "  - id: a\n    type: text\n    prompt: x\n    promt: y\n", 9, 5),
    ("E012", HEAD + "  - id: a\n    type: txt\n    prompt: x\n", 7, 11),
    ("E013", HEAD + "  - id: a\n    type: text\n    prompt: x\n    max_length: many\n", 9, 17),
    ("E013", HEAD + "  - id: a\n    type: text\n    prompt: {en: 5}\n", 8, 18),
    ("E013", HEAD + "  - id: a\n    type: text\n    prompt: x\n    next: [{goto: 5}]\n", 9, 19),
    ("E014", HEAD + "  - id: a\n    type: text\n    prompt: [x]\n", 8, 13),
    ("E015", HEAD + "  - id: a\n    type: text\n    prompt: x\n    next: 5\n", 9, 11),
]


@pytest.mark.parametrize(("code", "text", "line", "col"), CASES)
def test_problem_is_reported_on_its_line(code: str, text: str, line: int, col: int) -> None:
    loaded = load_text(text, "service.yaml", LISTS)
    assert [(p.code, p.line, p.col) for p in loaded.problems] == [(code, line, col)]
    assert has_errors(loaded.problems)


def test_every_loader_code_is_tested() -> None:
    assert sorted(set(CODES) - {code for code, *_ in CASES}) == []


def test_syntax_problem_names_the_cause() -> None:
    problem = load_text(HEAD + '  - id: a\n    prompt: "open\n', "s.yaml").problems[0]
    assert "while scanning a quoted scalar" in problem.message
    assert problem.hint == UNCLOSED_QUOTE


def test_duplicate_keys_are_found_at_any_depth() -> None:
    text = HEAD + "  - id: a\n    type: choice\n    prompt: x\n    options:\n"
    text += "      - {value: a, label: A, label: B}\n"
    problems = load_text(text, "s.yaml").problems
    assert [(p.code, p.line, p.col) for p in problems] == [("E002", 10, 30)]


def test_a_valid_definition_has_options_from_its_list() -> None:
    text = HEAD + "  - id: a\n    type: choice\n    prompt: x\n    options_from: districts\n"
    loaded = load_text(text, "s.yaml", LISTS)
    assert loaded.problems == []
    assert loaded.definition is not None
    step = loaded.definition.step_list[0]
    assert isinstance(step, ChoiceStep)
    assert [o.value for o in step.options] == ["paro", "thimphu"]
    # Options from a list have no lines here: problems about them point at `options_from`.
    problem = loaded.at(["steps", 0, "options", 1, "label"], "W999", "x")
    assert (problem.line, problem.col) == (9, 19)


def test_a_list_file_needs_options() -> None:
    options, problems = parse_list("title: Districts\n", "lists/districts.yaml")
    assert options is None
    assert [(p.code, p.line) for p in problems] == [("E003", 1)]
    options, problems = parse_list("options:\n  - Paro\n", "lists/districts.yaml")
    assert (options, problems) == (["Paro"], [])
