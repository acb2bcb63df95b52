"""`dialogs.case_checks`: a conversation tests file checked against its service, each
mistake written in YAML and expected at its line (and column)."""

from __future__ import annotations

import textwrap

import pytest

from dialogs.case_checks import Definitions, check_tests
from dialogs.loader import load_text
from dialogs.problems import Problem

SERVICE = """\
format: 1
id: permit
version: 1
title: Permit
steps:
  - {id: cid, type: national_id, prompt: Your citizenship ID}
  - id: citizen
    type: lookup
    url: "https://census.example.gov.bt/citizens/{{ answers.cid }}"
    fields: [name]
    on_error: kind
    example: {name: Pema Wangmo}
  - id: kind
    type: choice
    prompt: Which permit?
    options: [Daily, Weekly]
  - {id: agree, type: yes_no, prompt: "Agree?"}
  - {id: done, type: end, prompt: Thank you.}
"""


def _definitions() -> Definitions:
    loaded = load_text(SERVICE, "permit.yaml")
    assert loaded.definition is not None
    assert not loaded.problems
    return {"permit": loaded.definition}


def _check(tests: str, definitions: Definitions | None = None) -> list[Problem]:
    known = _definitions() if definitions is None else definitions
    return check_tests(textwrap.dedent(tests), "permit.tests.yaml", known)


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


GOOD = """\
service: permit
cases:
  - name: weekly
    lookups:
      citizen: {data: {name: Pema}}
    steps:
      - at: cid
      - send: "11501001234"
        at: kind
    answers: {kind: weekly, agree: true}
    submitted_answers: {kind: weekly}
"""


def test_a_correct_tests_file_has_no_problem() -> None:
    assert _check(GOOD) == []


def test_an_unknown_service_is_reported_at_service_with_the_closest_name() -> None:
    problem = _only(_check(GOOD.replace("service: permit", "service: permits")))
    assert (problem.code, problem.line, problem.col) == ("E380", 1, 10)
    assert "Did you mean 'permit'?" in problem.hint


def test_the_tests_of_an_unreadable_definition_are_not_checked_against_it() -> None:
    assert _check(GOOD.replace("at: kind", "at: knd"), {"permit": None}) == []


def test_an_unknown_step_in_at_is_reported_at_its_value() -> None:
    problem = _only(_check(GOOD.replace("at: kind", "at: knd")))
    assert (problem.code, problem.line, problem.col) == ("E381", 9, 13)
    assert "unknown step 'knd'" in problem.message
    assert "Did you mean 'kind'?" in problem.hint


@pytest.mark.parametrize(
    ("old", "new", "line", "col"),
    [
        ("citizen: {data", "citizn: {data", 5, 7),
        ("{kind: weekly, agree", "{knd: weekly, agree", 10, 15),
        ("submitted_answers: {kind", "submitted_answers: {kid", 11, 25),
    ],
)
def test_an_unknown_step_as_a_key_is_reported_at_the_key(
    old: str, new: str, line: int, col: int
) -> None:
    problem = _only(_check(GOOD.replace(old, new)))
    assert (problem.code, problem.line, problem.col) == ("E381", line, col)


def test_mocking_a_step_that_is_no_lookup_is_an_error() -> None:
    problem = _only(_check(GOOD.replace("citizen: {data", "kind: {data")))
    assert (problem.code, problem.line, problem.col) == ("E382", 5, 7)
    assert "'kind' is not a lookup" in problem.message
    assert "citizen" in problem.hint  # the lookups there are


def test_an_answer_that_is_none_of_the_options_is_reported_with_the_closest() -> None:
    problem = _only(_check(GOOD.replace("    answers: {kind: weekly", "    answers: {kind: wekly")))
    assert (problem.code, problem.line, problem.col) == ("E383", 10, 21)
    assert "has no option 'wekly'" in problem.message
    assert "Did you mean 'weekly'?" in problem.hint


def test_the_label_of_an_option_is_not_its_value() -> None:
    problem = _only(_check(GOOD.replace("{kind: weekly}", "{kind: Weekly}")))
    assert (problem.code, problem.line) == ("E383", 11)
    assert "Did you mean 'weekly'?" in problem.hint


def test_an_answer_of_a_step_without_fixed_options_is_not_an_option_problem() -> None:
    assert _check(GOOD.replace("agree: true", "agree: maybe")) == []


def test_an_unknown_channel_is_reported_at_its_line_with_the_closest() -> None:
    problem = _only(
        _check(GOOD.replace("  - name: weekly\n", "  - name: weekly\n    channels: [sms, USSD]\n"))
    )
    assert (problem.code, problem.line, problem.col) == ("E384", 4, 21)
    assert "unknown channel 'USSD'" in problem.message
    assert "Did you mean 'ussd'?" in problem.hint


def test_a_misspelt_field_gets_the_field_meant() -> None:
    problem = _only(_check(GOOD.replace("        at: kind", "        screen_contain: kind")))
    assert (problem.code, problem.line, problem.col) == ("E100", 9, 9)
    assert "Did you mean 'screen_contains'?" in problem.hint


def test_a_misspelt_field_of_a_mock_gets_the_field_meant() -> None:
    problem = _only(_check(GOOD.replace("{data: {name", "{dat: {name")))
    assert (problem.code, problem.line) == ("E100", 5)
    assert "Did you mean 'data'?" in problem.hint


def test_a_case_that_checks_nothing_is_a_warning_at_its_name() -> None:
    tests = """\
    service: permit
    cases:
      - name: says nothing
        steps:
          - {}
          - send: "11501001234"
    """
    problem = _only(_check(tests))
    assert (problem.code, problem.line, problem.col) == ("W380", 3, 11)
    assert problem.severity == "warning"


@pytest.mark.parametrize("answer", ["17", "yes", "0017"])
def test_an_unquoted_number_or_yes_as_an_answer_says_to_quote_it(answer: str) -> None:
    problem = _only(_check(GOOD.replace('send: "11501001234"', f"send: {answer}")))
    assert (problem.code, problem.line, problem.col) == ("E100", 8, 15)
    assert "write it in quotes" in problem.hint
