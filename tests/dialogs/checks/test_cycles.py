"""Conversations that go round for ever (E305, E306), steps that start again (W305), and
loops that are fine.

Each mistake is written in YAML; the problem must come at its line and column, and a
loop with a way out (or whose way out another check already reports) must not be.
"""

from __future__ import annotations

import textwrap

from dialogs.checker import check
from dialogs.loader import load_text

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\nsteps:\n"
END = "- id: done\n  type: end\n  prompt: Thank you\n"


def located(steps: str) -> set[tuple[str, int, int]]:
    """Problems of a service made of `steps` (YAML, first step on line 6) and an end."""
    body = textwrap.dedent(steps).strip("\n") + "\n" + END
    loaded = load_text(HEAD + textwrap.indent(body, "  "), "service.yaml")
    return {(p.code, p.line, p.col) for p in loaded.problems + check(loaded)}


START = """
    - id: start
      type: yes_no
      prompt: Go on?
      next:
        - if: answers.start
          goto: %s
        - goto: done
"""


def test_a_step_that_goes_on_to_itself() -> None:
    steps = (
        START % "name"
        + """
    - id: name
      type: text
      prompt: Name?
      next: name
    """
    )
    assert located(steps) == {("E305", 17, 5)}


def test_a_step_whose_every_branch_goes_to_itself() -> None:
    steps = """
    - id: again
      type: yes_no
      prompt: Again?
      next:
        - if: answers.again
          goto: again
        - goto: again
    """
    assert located(steps) == {("E305", 9, 5), ("W203", 13, 9)}


def test_a_lookup_that_goes_on_to_itself_even_with_a_failure_way() -> None:
    steps = """
    - id: check
      type: lookup
      url: https://registry.example.gov.bt/check
      on_error: done
      next: check
    """
    assert located(steps) == {("E305", 10, 5)}


def test_steps_that_lead_only_to_each_other() -> None:
    steps = (
        START % "item"
        + """
    - id: item
      type: text
      prompt: Item?
      max_length: 20
    - id: again
      type: yes_no
      prompt: Another one?
      next:
        - if: answers.again
          goto: item
        - goto: item
    """
    )
    # Reported once, at the way back up the file that closes the loop (the last one).
    assert located(steps) == {("E306", 24, 15)}


def test_a_loop_reached_from_a_step_outside_it() -> None:
    steps = (
        START % "one"
        + """
    - id: one
      type: text
      prompt: One?
      next: two
    - id: two
      type: text
      prompt: Two?
      next: three
    - id: three
      type: text
      prompt: Three?
      next: two
    """
    )
    assert located(steps) == {("E306", 25, 11)}


def test_a_loop_with_a_way_out_is_fine() -> None:
    steps = """
    - id: item
      type: text
      prompt: Item?
      max_length: 20
    - id: again
      type: yes_no
      prompt: Another one?
      next:
        - if: answers.again
          goto: item
        - goto: done
    """
    assert located(steps) == set()


def test_a_loop_left_only_by_a_condition_is_not_judged_here() -> None:
    steps = """
    - id: item
      type: text
      prompt: Item?
      max_length: 20
    - id: again
      type: yes_no
      prompt: Another one?
      next:
        - if: not answers.again
          goto: done
        - goto: item
    """
    assert located(steps) == set()


def test_a_loop_left_by_a_lookups_failure_way_is_fine() -> None:
    steps = """
    - id: cid
      type: national_id
      prompt: Your CID
    - id: citizen
      type: lookup
      url: "https://census.example.gov.bt/{{ answers.cid }}"
      on_error: done
      next: cid
    """
    assert located(steps) == set()


def test_a_loop_whose_way_out_is_reported_elsewhere_is_not_reported_twice() -> None:
    unknown = """
    - id: item
      type: text
      prompt: Item?
      max_length: 20
    - id: again
      type: yes_no
      prompt: Another one?
      next:
        - if: answers.again
          goto: item
        - goto: finish
    """
    assert {code for code, _, _ in located(unknown)} == {"E201", "W203"}
    conditional = """
    - id: item
      type: text
      prompt: Item?
      max_length: 20
    - id: again
      type: yes_no
      prompt: Another one?
      next:
        - if: answers.again
          goto: item
    """
    assert {code for code, _, _ in located(conditional)} == {"E204", "W203"}


def test_a_loop_no_conversation_reaches_is_only_warned_about() -> None:
    steps = """
    - id: first
      type: text
      prompt: First?
      max_length: 20
      next: done
    - id: one
      type: text
      prompt: One?
      max_length: 20
      next: two
    - id: two
      type: text
      prompt: Two?
      max_length: 20
      next: one
    """
    assert {code for code, _, _ in located(steps)} == {"W203"}


def test_a_default_branch_back_to_its_own_step_warns() -> None:
    steps = """
    - id: unverified
      type: yes_no
      prompt: We could not verify it. Continue?
      next:
        - if: answers.unverified
          goto: done
        - goto: unverified
    """
    assert located(steps) == {("W305", 12, 15)}


def test_a_condition_that_asks_again_is_a_deliberate_gate() -> None:
    steps = """
    - id: consent
      type: yes_no
      prompt: Do you accept the terms?
      next:
        - if: not answers.consent
          goto: consent
        - goto: done
    """
    assert located(steps) == set()


def test_a_lookup_whose_failure_way_is_itself() -> None:
    steps = """
    - id: business
      type: lookup
      url: https://registry.example.gov.bt/business
      on_error: business
      next: done
    """
    assert located(steps) == {("E305", 9, 15)}
