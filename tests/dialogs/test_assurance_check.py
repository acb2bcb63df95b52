"""E261: an instant document must rest on a registry's word for who applies.

The rule walks every way to an instant submit (`assurance: registry`, the default) and
refuses one a conversation could take without a `confirms_identity` lookup having
succeeded. Branches that test a confirming lookup's answer are the way definitions route
the confirmed and the unconfirmed apart, so they are not taken unconfirmed.
"""

from __future__ import annotations

import textwrap

import pytest

from dialogs.checker import check
from dialogs.checks.assurance import required_answers
from dialogs.loader import load_text
from dialogs.problems import Problem
from gateway.catalog.repository import LISTS_DIRNAME, load_lists
from tests.dialogs.helpers import SERVICES_DIR

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\nsteps:\n"

CID = """
- id: cid
  type: national_id
  prompt: Your citizenship ID
"""
CENSUS = """
- id: citizen
  type: lookup
  url: "https://census.example.gov.bt/citizens/{{ answers.cid }}"
  confirms_identity: true
  on_error: %s
  next: %s
"""
NAME = """
- id: name
  type: text
  prompt: Your name
"""
INSTANT = """
- id: submit
  type: submit
  mode: instant
  reference_prefix: FX
  next: done
- id: done
  type: end
  prompt: "Issued {{ submission.reference }}"
"""
REVIEW = """
- id: submit_review
  type: submit
  mode: review
  reference_prefix: FX
  next: done_review
- id: done_review
  type: end
  prompt: "Received {{ submission.reference }}"
"""


def service(*parts: str) -> str:
    steps = "".join(textwrap.dedent(part).lstrip("\n") for part in parts)
    return HEAD + textwrap.indent(steps, "  ")


def problems(text: str) -> list[Problem]:
    loaded = load_text(text, "service.yaml")
    assert loaded.definition is not None, [p.format() for p in loaded.problems]
    assert loaded.problems == []
    return check(loaded)


def e261(text: str) -> list[tuple[int, int]]:
    return [(p.line, p.col) for p in problems(text) if p.code == "E261"]


def mode_line(text: str, step: str) -> int:
    """The line (1-based) of the `mode:` of step `step` in `text`."""
    lines = text.splitlines()
    start = lines.index(f"  - id: {step}")
    return next(n for n in range(start, len(lines)) if "mode:" in lines[n]) + 1


# ------------------------------------------------------------------ required_answers
@pytest.mark.parametrize(
    ("condition", "needed"),
    [
        ("answers.citizen", {"citizen"}),
        ("answers.citizen.name", {"citizen"}),
        ("answers.citizen.address.village", {"citizen"}),
        ("(answers.citizen)", {"citizen"}),
        ("answers.consent and answers.citizen", {"consent", "citizen"}),
        (
            "answers.consent and answers.citizen.name and answers.plot",
            {"consent", "citizen", "plot"},
        ),
        ("answers.citizen and (answers.a or answers.b)", {"citizen"}),
    ],
)
def test_answers_tested_as_they_are_are_required(condition: str, needed: set[str]) -> None:
    assert required_answers(condition) == needed


@pytest.mark.parametrize(
    "condition",
    [
        "answers.consent or answers.citizen",  # either one will do
        "not answers.citizen",
        "answers.citizen.name == 'Dorji'",
        "answers.citizen != none",
        "answers.age > 18",
        "answers['citizen']",
        "submission.reference",
        "true",
    ],
)
def test_other_conditions_require_nothing(condition: str) -> None:
    assert required_answers(condition) == frozenset()


@pytest.mark.parametrize("condition", ["answers.(", "answers.citizen and", "{{ x", ""])
def test_a_condition_that_does_not_parse_requires_nothing(condition: str) -> None:
    assert required_answers(condition) == frozenset()


# ------------------------------------------------------------------ the rule
def test_a_failed_lookup_that_goes_to_an_instant_submit_is_refused() -> None:
    text = service(CID, CENSUS % ("name", "submit"), NAME, INSTANT)
    assert e261(text) == [(mode_line(text, "submit"), 11)]


def test_the_error_points_at_the_mode_of_the_submit_step() -> None:
    text = service(CID, CENSUS % ("name", "submit"), NAME, INSTANT)
    (problem,) = [p for p in problems(text) if p.code == "E261"]
    assert problem.severity == "error"
    line = text.splitlines()[problem.line - 1]
    assert line == "    mode: instant"
    assert line[problem.col - 1 :] == "instant"
    assert problem.format().startswith(
        f"service.yaml:{problem.line}:11: E261 error: step 'submit' issues an instant document"
    )
    assert "assurance: self-declared" in problem.hint


def test_a_failed_lookup_that_goes_to_review_passes() -> None:
    to_review = NAME + "  next: submit_review\n"
    text = service(CID, CENSUS % ("name", "submit"), INSTANT, to_review, REVIEW)
    assert e261(text) == []


def test_a_lookup_that_does_not_confirm_identity_confirms_nothing() -> None:
    lookup = (CENSUS % ("submit", "submit")).replace("  confirms_identity: true\n", "")
    text = service(CID, lookup, INSTANT)
    assert e261(text) == [(mode_line(text, "submit"), 11)]


def test_assurance_self_declared_needs_no_registry() -> None:
    declared = INSTANT.replace("  mode: instant\n", "  mode: instant\n  assurance: self-declared\n")
    assert e261(service(CID, NAME, declared)) == []
    assert e261(service(CID, NAME, INSTANT)) != []  # the same without it


CONSENT = """
- id: consent
  type: yes_no
  prompt: Do you agree?
  next:
    - if: %s
      goto: submit
    - if: answers.consent
      goto: submit_review
    - goto: declined
- id: declined
  type: end
  prompt: Nothing was submitted.
"""


def routed(condition: str) -> str:
    return service(CID, CENSUS % ("name", "consent"), NAME, CONSENT % condition, INSTANT, REVIEW)


@pytest.mark.parametrize(
    "condition", ["answers.consent and answers.citizen", "answers.citizen.name and answers.consent"]
)
def test_a_branch_that_needs_the_confirming_answer_is_not_taken_unconfirmed(
    condition: str,
) -> None:
    assert e261(routed(condition)) == []


@pytest.mark.parametrize("condition", ["answers.consent or answers.citizen", "answers.consent"])
def test_a_branch_the_unconfirmed_can_take_to_an_instant_submit_is_refused(
    condition: str,
) -> None:
    text = routed(condition)
    assert e261(text) == [(mode_line(text, "submit"), 11)]


def test_a_failed_second_lookup_keeps_the_confirmation_of_the_first() -> None:
    land = """
    - id: land
      type: lookup
      url: "https://land.example.gov.bt/plots/{{ answers.cid }}"
      on_error: submit
      next: submit
    """
    text = service(CID, CENSUS % ("submit_review", "land"), land, INSTANT, REVIEW)
    assert e261(text) == []


def test_each_refused_submit_is_reported_once() -> None:
    second = INSTANT.replace("id: submit", "id: submit_two").replace("id: done", "id: done_two")
    second = second.replace("next: done", "next: done_two")
    choose = """
    - id: kind
      type: yes_no
      prompt: A second copy?
      next:
        - if: answers.kind
          goto: submit_two
        - goto: submit
    """
    text = service(CID, CENSUS % ("name", "kind"), NAME + "  next: kind\n", choose, INSTANT, second)
    assert e261(text) == [(mode_line(text, "submit"), 11), (mode_line(text, "submit_two"), 11)]


def test_the_shipped_business_registration_routes_the_unconfirmed_to_review() -> None:
    path = SERVICES_DIR / "business-registration.yaml"
    lists, list_problems = load_lists(SERVICES_DIR / LISTS_DIRNAME)
    assert list_problems == []
    loaded = load_text(path.read_text(encoding="utf-8"), str(path), lists)
    assert loaded.definition is not None
    steps = {step.id: step for step in loaded.definition.step_list}
    assert getattr(steps["citizen"], "confirms_identity", False)  # what the routing rests on
    assert getattr(steps["submit"], "mode", None) == "instant"
    assert [p.format() for p in check(loaded) if p.code == "E261"] == []
