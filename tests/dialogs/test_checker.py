"""The checker: one fixture per problem code, marked where the problem must be reported.

A fixture line ending in `# expect: CODE [CODE...]` must get exactly those codes, and no
other line of the fixture may get any: fixtures stay minimal and lines stay exact.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.checker import check
from dialogs.checks import CODES, MODULES
from dialogs.checks._worst import rejections
from dialogs.loader import Loaded, load_text
from dialogs.problems import Problem, has_errors
from dialogs.steps import InputStep
from gateway.catalog.repository import definition_files, load_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "checks"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[EW]\d{3}(?:\s+[EW]\d{3})*)\s*$")
LISTS = {
    "districts": [
        {"value": f"d{n}", "label": {"en": f"District {n}", "dz": f"རྫོང་ཁག {n}"}}
        for n in range(1, 12)
    ]
    + ["District with a very long name"]
}


def problems_of(text: str, file: str = "service.yaml") -> list[Problem]:
    loaded = load_text(text, file, LISTS)
    return loaded.problems + check(loaded)


def found(text: str) -> set[tuple[int, str]]:
    return {(p.line, p.code) for p in problems_of(text)}


def expected(text: str) -> set[tuple[int, str]]:
    marks: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            marks |= {(number, code) for code in match["codes"].split()}
    return marks


def fixture_paths() -> list[Path]:
    return sorted(FIXTURES.glob("*.yaml"))


@pytest.mark.parametrize("path", fixture_paths(), ids=lambda p: p.stem)
def test_fixture_reports_its_code_on_the_marked_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert path.stem in {code for _, code in expected(text)}, "mark the line of its code"
    assert found(text) == expected(text)


def test_every_registered_code_has_a_fixture() -> None:
    missing = sorted(code for code in CODES if not (FIXTURES / f"{code}.yaml").is_file())
    assert missing == []


def test_every_fixture_names_a_registered_code() -> None:
    assert sorted(p.stem for p in fixture_paths() if p.stem not in CODES) == []


def test_no_code_is_claimed_by_two_checks() -> None:
    claimed = [code for module in MODULES for code in module.CODES]
    assert len(claimed) == len(set(claimed))
    assert all(re.fullmatch(r"[EW]\d{3}", code) for code in claimed)


@pytest.mark.parametrize("path", definition_files([ROOT / "services"]), ids=lambda p: p.stem)
def test_shipped_services_have_no_errors(path: Path) -> None:
    loaded = load_file(path)
    errors = [p.format() for p in loaded.problems if p.severity == "error"]
    assert errors == []
    assert not has_errors(loaded.problems)


# --------------------------------------------------------------------------- details

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\n"


def service(steps: str, head: str = HEAD) -> str:
    return head + "steps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"


LOOKUP = """
- id: cid
  type: national_id
  prompt: Your citizenship ID
- id: citizen
  type: lookup
  url: "https://census.example.gov.bt/citizens/{{ answers.cid }}"
  on_error: name
  next: business
- id: name
  type: text
  prompt: Your name
  max_length: 40
- id: business
  type: text
  prompt: "%s"
- id: done
  type: end
  prompt: Thank you
"""


def test_a_lookup_answer_is_missing_after_its_error_edge() -> None:
    text = service(LOOKUP % "Welcome {{ answers.citizen.name }}. Business name?")
    assert found(text) == {(20, "W210")}


@pytest.mark.parametrize(
    "prompt",
    [
        "{% if answers.citizen.name %}Welcome {{ answers.citizen.name }}. {% endif %}Name?",
        "Welcome {{ answers.citizen.name or answers.name }}. Name?",
        "Welcome {{ answers.citizen.name | default('citizen') }}. Name?",
        "{% if answers.citizen is defined %}Hi {{ answers.citizen.name }}{% endif %}",
        "Hi {{ answers.cid }}",  # asked on every path
    ],
)
def test_presence_tests_and_answers_set_on_every_path_do_not_warn(prompt: str) -> None:
    assert found(service(LOOKUP % prompt)) == set()


def test_a_comparison_is_not_a_presence_test() -> None:
    prompt = "{% if answers.citizen.name == 'x' %}Hi{% endif %} Business name?"
    assert found(service(LOOKUP % prompt)) == {(20, "W210")}


def test_a_branch_condition_sees_its_own_answer_and_a_loop_settles() -> None:
    text = service(
        """
        - id: again
          type: yes_no
          prompt: Add another item?
          next:
            - if: answers.again
              goto: item
            - goto: done
        - id: item
          type: text
          prompt: "Item (last: {{ answers.item }})"
          max_length: 20
          next: again
        - id: done
          type: end
          prompt: Thank you
        """
    )
    assert found(text) == {(15, "W210")}  # the first time round, no item was given yet


def test_a_shared_list_is_not_warned_for_its_length_nor_its_extra_languages() -> None:
    # ... but a label too long for WhatsApp is, at the `options_from` that brings it in.
    text = service(
        """
        - id: district
          type: choice
          prompt: District
          options_from: districts
        - id: done
          type: end
          prompt: Thank you
        """
    )
    assert found(text) == {(9, "W271")}


def test_a_broken_graph_is_reported_not_raised() -> None:
    text = service(
        """
        - id: a
          type: lookup
          url: https://example.gov.bt/x
          on_error: ghost
          next:
            - if: answers.a
              goto: a
            - goto: phantom
        - id: a
          type: end
          prompt: "{{ answers.a.b }}"
        """
    )
    assert {code for _, code in found(text)} == {"E201", "E202", "W203"}


def test_an_end_screen_of_exactly_one_ussd_screen_fits() -> None:
    text = service(f"- id: done\n  type: end\n  prompt: {'x' * 182}\n")
    assert found(text) == set()
    text = service(f"- id: done\n  type: end\n  prompt: {'x' * 183}\n")
    assert found(text) == {(8, "E252")}


def test_zero_is_fine_when_it_is_not_the_back_command() -> None:
    steps = "- id: n\n  type: number\n  prompt: N\n- id: done\n  type: end\n  prompt: Ok\n"
    assert found(service(steps)) == {(6, "W280")}
    assert found(service(steps, HEAD + "commands: {back: [back]}\n")) == set()


def test_problems_format_as_file_line_col_code() -> None:
    problem = problems_of(
        service("- id: n\n  type: text\n  prompt: N\n  next: nowhere\n"), "svc.yaml"
    )[0]
    assert problem.format().splitlines()[0] == ("svc.yaml:9:11: E201 error: unknown step 'nowhere'")


def test_check_ignores_a_file_that_failed_the_schema() -> None:
    assert check(Loaded("x.yaml", None, load_text("", "x.yaml").locator)) == []


def test_an_overridden_message_may_use_the_parameters_of_the_original() -> None:
    head = HEAD + 'texts: {too_short: "At least {{ min }} letters, {{ mn }}"}\n'
    text = service("- id: done\n  type: end\n  prompt: Ok\n", head)
    assert found(text) == {(5, "E212")}  # `mn` only


def test_screen_sizes_know_every_message_a_step_can_refuse_with() -> None:
    # `_worst.rejections` mirrors the steps' parsers: a new reason there must be sized too.
    parsers = "".join(p.read_text() for p in (ROOT / "dialogs" / "steps").glob("*.py"))
    refused = set(re.findall(r'Rejected\(\s*"(\w+)"', parsers))
    steps = load_text(
        service(
            """
            - {id: t, type: text, prompt: T, min_length: 2, pattern: "[a-z]+"}
            - {id: n, type: number, prompt: N, min: 1, max: 9}
            - {id: d, type: number, prompt: D, decimals: 2}
            - {id: a, type: date, prompt: A, min: today, max: today}
            - {id: p, type: phone, prompt: P}
            - {id: c, type: national_id, prompt: C}
            - {id: y, type: yes_no, prompt: Y}
            - {id: o, type: choice, prompt: O, options: [A]}
            - {id: s, type: summary, prompt: S}
            """
        ),
        "s.yaml",
    ).definition
    assert steps is not None
    sized = {
        reason
        for step in steps.step_list
        if isinstance(step, InputStep)
        for reason, _ in rejections(step)
    }
    assert refused == sized
    assert sized <= set(BUILTIN_TEXTS)
