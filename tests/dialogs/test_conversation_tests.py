"""Conversation tests (`dialogs.conversation_tests`): what a case may expect, on every
channel, and a case that expects nothing."""

from __future__ import annotations

import textwrap

import pytest

from dialogs.catalog import Catalog
from dialogs.compiler import compile_service
from dialogs.conversation_tests import NOTHING_EXPECTED, CaseResult, parse_tests, run_file
from dialogs.loader import load_text
from dialogs.media import Medium

SERVICE = """\
format: 1
id: permit
version: 1
title: Permit
steps:
  - id: kind
    type: choice
    prompt: Which permit?
    options: [Daily, Weekly]
  - {id: done, type: end, prompt: Thank you.}
"""


def _run(cases: str) -> list[CaseResult]:
    loaded = load_text(SERVICE, "permit.yaml")
    assert loaded.definition is not None
    assert not loaded.problems
    catalog = Catalog.of([compile_service(loaded.definition)])
    text = "service: permit\ncases:\n" + textwrap.indent(textwrap.dedent(cases), "  ")
    tests, problems = parse_tests(text, "permit.tests.yaml")
    assert tests is not None, [p.format() for p in problems]
    return run_file(catalog, tests)


@pytest.mark.parametrize("medium", list(Medium))
def test_the_options_shown_can_be_expected_on_every_channel(medium: Medium) -> None:
    (result,) = _run(f"""\
        - name: options
          channels: [{medium}]
          steps:
            - options: [Daily, weekly]
              options_contain: Weekly
        """)
    assert result.passed, result.failures


def test_options_not_shown_fail_on_buttons_too() -> None:
    results = _run("""\
        - name: options
          channels: [telegram, web, ussd]
          steps:
            - options: [Daily, Monthly]
              options_contain: [Yearly]
        """)
    for result in results:
        assert result.failures == [
            "step 1 (after (dial)): options shown are ['Daily', 'Weekly'], expected "
            "['Daily', 'Monthly']",
            "step 1 (after (dial)): no option 'Yearly' among the options shown ['Daily', 'Weekly']",
        ], result.medium


def test_a_screen_without_options_shows_none() -> None:
    (result,) = _run("""\
        - name: closing screen
          channels: [web]
          steps:
            - {}
            - send: "2"
              options: []
        """)
    assert result.passed, result.failures


def test_a_case_that_expects_nothing_fails_with_what_to_add() -> None:
    (result,) = _run("""\
        - name: nothing
          channels: [sms]
          steps:
            - {}
            - send: "1"
        """)
    assert result.failures == [NOTHING_EXPECTED]


def test_a_case_expecting_only_answers_expects_something() -> None:
    (result,) = _run("""\
        - name: answers only
          channels: [sms]
          steps:
            - {}
            - send: "1"
          answers: {kind: daily}
        """)
    assert result.passed, result.failures
