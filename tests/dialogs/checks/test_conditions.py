"""Conditions that can never (or always) hold: one mistake per test, written in YAML, found
at the line and column of its condition; and what is right stays silent."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from dialogs.checker import check
from dialogs.checks import conditions
from dialogs.expressions import compile_condition
from dialogs.loader import load_text
from dialogs.problems import Problem
from dialogs.steps import InputStep
from dialogs.steps.base import Accepted
from dialogs.steps.values import Numbers
from tests.dialogs.helpers import step_context

LISTS = {"districts": [{"value": "thimphu", "label": {"en": "Thimphu", "dz": "ཐིམ་ཕུ"}}, "Paro"]}

QUESTIONS = """\
format: 1
id: fixture
version: 1
title: Fixture
steps:
  - id: size
    type: choice
    prompt: Size
    options:
      - {value: small, label: Small}
      - {value: medium, label: {en: Medium, dz: འབྲིང་}}
  - id: district
    type: choice
    prompt: District
    options_from: districts
  - id: consent
    type: yes_no
    prompt: Do you agree?
  - id: age
    type: number
    prompt: Your age
    min: 1
    max: 120
  - id: weight
    type: number
    prompt: Weight in kg
    min: 1
    max: 50
    decimals: 1
  - id: route
    type: info
    prompt: "Thank you{%% if %s %%}, friend{%% endif %%}."
    next:
      - if: %s
        goto: done
      - goto: other
  - id: other
    type: end
    prompt: Other
  - id: done
    type: end
    prompt: Thank you
"""
TEMPLATE_LINE, CONDITION_LINE, FOLLOWING_LINE = 32, 34, 36
CONDITION_COL = 13  # after `      - if: `


def problems(condition: str, template: str = "answers.consent") -> list[Problem]:
    loaded = load_text(QUESTIONS % (template, _quoted(condition)), "service.yaml", LISTS)
    assert loaded.problems == []
    return conditions.run(loaded)


def _quoted(condition: str) -> str:
    return "'" + condition.replace("'", "''") + "'"


def found(condition: str) -> set[tuple[int, str]]:
    return {(p.line, p.code) for p in problems(condition)}


@pytest.mark.parametrize(
    ("condition", "code", "hint"),
    [
        (
            'answers.size == "Small"',
            "E320",
            'use the value `small`, not its label: `answers.size == "small"`',
        ),
        ('answers.size == "འབྲིང་"', "E320", "use the value `medium`"),  # a translation
        ('answers.size in ["small", "Medium"]', "E320", 'answers.size in ["small", "medium"]'),
        ('answers.district == "Thimphu"', "E320", "use the value `thimphu`"),  # a shared list
        ('answers.size == "large"', "E321", 'its values: "small", "medium"'),
        ('answers.size == "Smal"', "E321", 'did you mean "small"?'),
        ('answers.district == "punakha"', "E321", 'its values: "thimphu", "paro"'),
        ('answers.consent == "yes"', "E322", "write `answers.consent` for yes"),
        ('answers.consent == "true" and answers.age > 5', "E322", "`not answers.consent` for no"),
        ("answers.age > 200", "E323", "within its range"),
        ("answers.age < 1", "E323", "within its range"),
        ("200 <= answers.age", "E323", "within its range"),
        ("answers.age == 2.5", "E323", "within its range"),  # saved as a whole number
        ('answers.get("age") > 200', "E323", "within its range"),
        ('answers["size"] == "Small"', "E320", "use the value `small`"),
        ("answers.weight > 25", "E324", "`answers.weight | float > 25`"),
        ('answers.age == "18"', "E324", "without quotes"),
        ("answers.age > 10 and false", "E330", "remove the branch"),
    ],
)
def test_a_condition_that_can_never_hold_is_an_error_at_its_column(
    condition: str, code: str, hint: str
) -> None:
    [problem] = problems(condition)
    assert (problem.line, problem.col, problem.code) == (CONDITION_LINE, CONDITION_COL, code)
    assert hint in problem.hint.lower().replace("`S", "`s")


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ('answers.size != "Small"', "W320"),
        ('answers.size not in ["large"]', "W321"),
        ('answers.consent != "no"', "W322"),
        ("answers.age >= 1", "W323"),
        ("answers.age != 500", "W323"),
        ('answers.age != "18"', "W324"),
    ],
)
def test_a_comparison_that_always_holds_warns_and_the_following_branch_too(
    condition: str, code: str
) -> None:
    assert found(condition) == {(CONDITION_LINE, code), (FOLLOWING_LINE, "W331")}


@pytest.mark.parametrize("condition", ["true", "answers.size", "answers.consent or true"])
def test_a_branch_after_a_condition_that_always_holds_is_never_tried(condition: str) -> None:
    [problem] = problems(condition)
    assert (problem.line, problem.code, problem.severity) == (FOLLOWING_LINE, "W331", "warning")
    assert condition in problem.message


@pytest.mark.parametrize(
    "condition",
    [
        'answers.size == "small"',
        'answers.size in ["small", "medium"] and answers.consent',
        'answers.district == "paro"',
        "answers.consent",
        "not answers.consent",
        "answers.consent == true",
        "answers.age > 18",
        "answers.age >= 18 and answers.age < 65",
        "18 < answers.age",
        "answers.weight | float > 25",
        'answers.weight == "2.5"',
        "answers.age > answers.weight",  # two answers: not judged
        'answers.size == "small" or answers.size == "medium"',  # not judged as a whole
        'labels.size == "Small"',
        '"sm" in answers.size',
        "answers.citizen.name == 3",  # no such question: E211's business
    ],
)
def test_conditions_that_can_go_either_way_are_silent(condition: str) -> None:
    assert problems(condition) == []


def test_a_template_if_is_judged_too() -> None:
    [problem] = problems("answers.consent", template="answers.consent == 'yes'")
    assert (problem.line, problem.code) == (TEMPLATE_LINE, "E322")


def test_an_answer_that_may_be_missing_does_not_always_hold() -> None:
    # `age` is asked on one way only: unanswered, `answers.age >= 1` fails (it cannot be
    # ordered), so the next branch can be taken; the test is still pointless when answered.
    text = """\
format: 1
id: fixture
version: 1
title: Fixture
steps:
  - id: consent
    type: yes_no
    prompt: Do you agree?
    next:
      - if: answers.consent
        goto: age
      - goto: route
  - id: age
    type: number
    prompt: Your age
    min: 1
  - id: route
    type: info
    prompt: Thanks
    next:
      - if: answers.age >= 1
        goto: done
      - goto: done
  - id: done
    type: end
    prompt: Thank you
"""
    loaded = load_text(text, "service.yaml")
    assert {(p.line, p.code) for p in conditions.run(loaded)} == {(21, "W323")}


def test_a_step_id_used_twice_is_not_judged() -> None:
    text = QUESTIONS.replace("  - id: age\n", "  - id: size\n", 1)
    loaded = load_text(text % ("answers.consent", "'answers.size == \"Small\"'"), "s.yaml", LISTS)
    assert conditions.run(loaded) == []


# --------------------------------------------------------------------------- soundness

REPORTED = [
    'answers.size == "Small"',
    'answers.size != "Small"',
    'answers.size in ["Small", "Medium"]',
    'answers.consent == "yes"',
    'answers.consent != "no"',
    "answers.age > 200",
    "answers.age >= 1",
    "answers.age != 500",
    "200 < answers.age",
    "answers.weight > 25",
    "answers.weight == 25",
    "answers.weight != 25",
    'answers.age == "18"',
    "answers.consent and answers.age > 120",
    "not answers.size",
]


@pytest.mark.parametrize("condition", REPORTED)
def test_what_is_reported_is_what_the_engine_computes(condition: str) -> None:
    """Every answer the steps accept, combined, gives the outcome the check reported."""
    loaded = load_text(QUESTIONS % ("answers.consent", _quoted(condition)), "s.yaml", LISTS)
    reported = {(p.line, p.code) for p in check(loaded) if p.code in conditions.CODES}
    always = (FOLLOWING_LINE, "W331") in reported
    never = any(line == CONDITION_LINE and code[0] == "E" for line, code in reported)
    assert never != always, reported
    assert loaded.definition is not None
    steps = {s.id: s for s in loaded.definition.step_list if isinstance(s, InputStep)}
    names = ["size", "consent", "age", "weight"]
    holds = compile_condition(condition)
    for values in itertools.product(*(_accepted(steps[name]) for name in names)):
        answers = dict(zip(names, values, strict=True))
        assert holds({"answers": answers}) is always, answers


def _accepted(step: InputStep) -> list[Any]:
    """The saved values of a spread of answers the step accepts."""
    described = step.possible_values()
    if isinstance(described, Numbers):
        low, high = described.low or Decimal(0), described.high or Decimal(1000)
        typed = [str(low), str(high), str((low + high) // 2), "25", "2.5", "120"]
    else:
        typed = [str(n) for n in range(1, 10)]
    ctx = step_context()
    parsed = [step.parse(raw, ctx) for raw in typed]
    return [answer.value for answer in parsed if isinstance(answer, Accepted)]
