"""Questions no answer can pass (E300-E304, E307, W300) and blank option labels (E308).

Each mistake is written in YAML; the problem must come at its line and column, and the
harmless look-alikes must not be reported.
"""

from __future__ import annotations

import math
import textwrap

import pytest

from dialogs.checker import check
from dialogs.loader import load_text
from dialogs.problems import Problem
from dialogs.regex_language import Lengths, match_lengths

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\nsteps:\n"
END = "- id: done\n  type: end\n  prompt: Thank you\n"
LISTS = {"blanks": [{"value": "a", "label": "A"}, {"value": "b", "label": " "}]}


def problems(step: str) -> list[Problem]:
    """Problems of a service made of `step` (YAML, the step's line is line 6) and an end."""
    body = textwrap.dedent(step).strip("\n") + "\n" + END
    loaded = load_text(HEAD + textwrap.indent(body, "  "), "service.yaml", LISTS)
    return loaded.problems + check(loaded)


def located(step: str) -> set[tuple[str, int, int]]:
    return {(p.code, p.line, p.col) for p in problems(step)}


def number(low: str, high: str, decimals: int = 0) -> str:
    return f"""
    - id: seats
      type: number
      prompt: Seats?
      decimals: {decimals}
      min: {low}
      max: {high}
    """


def test_a_number_whose_min_is_above_its_max() -> None:
    assert located(number("70", "10")) == {("E300", 10, 10)}


def test_a_number_range_without_a_whole_number() -> None:
    assert located(number("1.2", "1.8")) == {("E300", 10, 10)}
    assert located(number("1.21", "1.29", decimals=1)) == {("E300", 10, 10)}


@pytest.mark.parametrize(
    ("low", "high", "decimals"),
    [("5", "5", 0), ("1.2", "2", 0), ("1.2", "1.8", 1), ("-10", "-1", 0), ("0.5", "0.5", 2)],
)
def test_a_number_range_with_an_answer_is_fine(low: str, high: str, decimals: int) -> None:
    assert {code for code, _, _ in located(number(low, high, decimals))} <= {"W280"}


def test_a_text_whose_min_length_is_above_its_max_length() -> None:
    step = """
    - id: name
      type: text
      prompt: Name?
      max_length: 40
      min_length: 50
    """
    assert located(step) == {("E301", 10, 17)}


def date(low: str, high: str) -> str:
    return f"""
    - id: day
      type: date
      prompt: Day?
      max: '{high}'
      min: '{low}'
    """


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("today + 30 days", "today"),
        ("today", "today - 1 day"),
        ("today + 2 months", "today + 1 month"),
        ("today + 1 year", "today + 11 months"),
        ("today + 5 weeks", "today + 30 days"),
        ("today + 32 days", "today + 1 month"),  # no month has 32 days
        ("2026-03-01", "2026-02-28"),
    ],
)
def test_a_date_range_that_is_always_empty(low: str, high: str) -> None:
    assert located(date(low, high)) == {("E302", 10, 10)}


def test_a_date_range_empty_on_some_days_is_a_warning() -> None:
    # From 1 March, a month later is 1 April: 31 days, past `today + 30 days`.
    assert located(date("today + 1 month", "today + 30 days")) == {("W300", 10, 10)}


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("today", "today"),
        ("today - 1 year", "today"),
        ("today + 1 month", "today + 31 days"),
        ("today + 28 days", "today + 1 month"),
        ("2026-01-01", "2026-01-01"),
        ("today", "2020-01-01"),  # a fixed date against today: depends on the day
        ("2030-01-01", "today + 1 year"),
    ],
)
def test_a_date_range_with_an_answer_or_undecidable_is_fine(low: str, high: str) -> None:
    assert located(date(low, high)) == set()


def test_a_malformed_date_bound_says_what_is_allowed() -> None:
    found = problems(date("today+30d", "today"))
    assert [(p.code, p.line, p.col) for p in found] == [("E013", 10, 10)]
    assert "today + N days" in found[0].message


def text(pattern: str, more: str = "") -> str:
    return f"""
    - id: code
      type: text
      prompt: Code?
      pattern: '{pattern}'{more}
    """


@pytest.mark.parametrize(
    "pattern",
    [
        r"[^\s\S]",
        r"a^b",
        r"P-^[0-9]+",
        r"[0-9]+$-x",
        r"(a|b)[^\d\D]",
        r"x\Ay",
        r"[^\x00-\U0010ffff]+",
    ],
)
def test_a_pattern_no_answer_can_match(pattern: str) -> None:
    assert located(text(pattern)) == {("E303", 9, 14)}


@pytest.mark.parametrize(
    ("pattern", "more"),
    [
        (r"[0-9]{11}", "\n      max_length: 8"),
        (r"[A-Z]{2}", "\n      min_length: 3"),
        (r"(?:ab){60}", ""),  # longer than the default `max_length` (100)
        (r"x{0}", ""),  # only the empty answer, which never reaches the pattern
    ],
)
def test_a_pattern_whose_answers_are_too_short_or_too_long(pattern: str, more: str) -> None:
    assert located(text(pattern, more)) == {("E304", 9, 14)}


@pytest.mark.parametrize(
    "pattern",
    [
        r"[A-Za-z0-9 .&-]+",
        r"^\d{8}$",
        r"\d{11}",
        r"(?m)a^b",  # multi-line anchors: not judged
        r"(a)\1",
        r"(?=a)\w+",
        r"a?^b",
        r"(x[^\s\S])?y",
        r"[^\s]+",
    ],
)
def test_a_pattern_some_answer_matches_is_fine(pattern: str) -> None:
    assert located(text(pattern)) == set()


@pytest.mark.parametrize(
    ("pattern", "lengths"),
    [
        (r"abc|", Lengths(0, 3)),
        (r"a{2,5}b?", Lengths(2, 6)),
        (r"(?:ab)+", Lengths(2, math.inf)),
        (r"(bad", Lengths(0, math.inf)),  # does not compile: E220's, not judged here
        (r"x(^a)*", Lengths(1, 1)),
    ],
)
def test_match_lengths(pattern: str, lengths: Lengths) -> None:
    assert match_lengths(pattern) == lengths


def test_a_choice_without_options() -> None:
    step = """
    - id: district
      type: choice
      prompt: District?
    """
    assert located(step) == {("E307", 6, 5)}


def test_a_choice_with_an_empty_list_of_options() -> None:
    step = """
    - id: district
      type: choice
      prompt: District?
      options: []
    """
    assert located(step) == {("E307", 9, 14)}


def test_an_unknown_shared_list_is_only_the_loaders_problem() -> None:
    step = """
    - id: district
      type: choice
      prompt: District?
      options_from: nowhere
    """
    assert {code for code, _, _ in located(step)} == {"E006"}


def test_an_option_with_a_blank_label() -> None:
    step = """
    - id: size
      type: choice
      prompt: Size?
      options:
        - {value: small, label: Small}
        - {value: large, label: ""}
        - value: huge
          label: {en: "  "}
    """
    assert located(step) == {("E308", 11, 31), ("E308", 13, 16)}


def test_a_blank_label_in_a_shared_list_is_reported_where_the_list_is_named() -> None:
    step = """
    - id: pick
      type: choice
      prompt: Pick one
      options_from: blanks
    """
    assert located(step) == {("E308", 9, 19)}
