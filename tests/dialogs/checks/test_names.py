"""Names that do not exist: each mistake written in YAML, reported at the line and the
column of the wrong name, with the name it most likely meant."""

from __future__ import annotations

import textwrap

import pytest

from dialogs.checker import check
from dialogs.loader import load_text
from dialogs.messages import SubmissionResult
from dialogs.problems import Problem
from dialogs.steps.effect import Advance
from dialogs.steps.submit import SUBMISSION_FIELDS, SubmitStep
from tests.dialogs.helpers import make_step

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\n"


def service(steps: str, head: str = HEAD) -> str:
    return head + "steps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"


def problems(text: str, code: str) -> list[Problem]:
    return [p for p in check(load_text(text, "service.yaml")) if p.code == code]


def column_of(text: str, line: int, needle: str, occurrence: int = 1) -> int:
    """The 1-based column of the `occurrence`-th `needle` on `line` (1-based)."""
    row = text.splitlines()[line - 1]
    at = -1
    for _ in range(occurrence):
        at = row.index(needle, at + 1)
    return at + 1


ASKED = """
- id: name
  type: text
  prompt: Your name
- id: done
  type: end
  prompt: %s
"""


# --------------------------------------------------------------------------- answers (E211)


def test_a_misspelt_answer_is_pointed_at_with_the_name_it_meant() -> None:
    text = service(ASKED % '"Thank you {{ answers.nmae }}"')
    [problem] = problems(text, "E211")
    assert (problem.line, problem.col) == (11, column_of(text, 11, "nmae"))
    assert "answers.nmae" in problem.message
    assert "Did you mean `answers.name`?" in problem.hint


@pytest.mark.parametrize(
    ("prompt", "needle"),
    [
        ('"Hi {{ labels.nmae }}"', "nmae"),
        ("\"Hi {{ answers['nmae'] }}\"", "nmae"),
        ("\"Hi {{ answers.get('nmae') }}\"", "nmae"),
        ('"Your answers: {{ answers.nmae }}"', "nmae"),  # the plain word is not the name
    ],
)
def test_every_spelling_of_an_answer_is_pointed_at(prompt: str, needle: str) -> None:
    text = service(ASKED % prompt)
    [problem] = problems(text, "E211")
    assert (problem.line, problem.col) == (11, column_of(text, 11, needle))


def test_a_name_in_a_block_text_is_pointed_at_on_its_own_line() -> None:
    text = service(ASKED % "|\n    Thank you.\n    Your name: {{ answers.nmae }}")
    [problem] = problems(text, "E211")
    assert (problem.line, problem.col) == (13, column_of(text, 13, "nmae"))


def test_a_name_in_a_condition_is_pointed_at() -> None:
    text = service(
        """
        - id: name
          type: text
          prompt: Your name
          next:
            - if: answers.nmae == "x"
              goto: done
            - goto: done
        - id: done
          type: end
          prompt: Bye
        """
    )
    [problem] = problems(text, "E211")
    assert (problem.line, problem.col) == (10, column_of(text, 10, "nmae"))


def test_an_unknown_top_level_name_is_pointed_at_with_the_name_it_meant() -> None:
    text = service(ASKED % '"Your answer: {{ answer.name }}"')
    [problem] = problems(text, "E212")
    assert (problem.line, problem.col) == (11, column_of(text, 11, "answer", 2))
    assert "Did you mean `answers`?" in problem.hint


def test_a_name_nothing_is_close_to_gets_no_suggestion() -> None:
    text = service(ASKED % '"Thank you {{ answers.zzzzzz }}"')
    [problem] = problems(text, "E211")
    assert "Did you mean" not in problem.hint


# --------------------------------------------------------------------------- submission


SUBMITTED = """
- id: name
  type: text
  prompt: Your name
- id: submit
  type: submit
  mode: %s
  assurance: self-declared
  reference_prefix: FX
  document: {title: Permit, issuer: Office, holder: "{{ answers.name }}"}
- id: done
  type: end
  prompt: %s
"""


def test_a_misspelt_submission_field_says_what_it_meant() -> None:
    text = service(SUBMITTED % ("instant", '"Number {{ submission.refrence }}"'))
    [problem] = problems(text, "E340")
    assert (problem.line, problem.col) == (17, column_of(text, 17, "refrence"))
    assert "Did you mean `submission.reference`?" in problem.hint


def test_the_fields_a_submission_keeps_are_those_the_check_knows() -> None:
    step = make_step(
        {
            "id": "submit",
            "type": "submit",
            "mode": "instant",
            "reference_prefix": "FX",
        }
    )
    assert isinstance(step, SubmitStep)
    result = SubmissionResult(ok=True, reference="FX-1", status="issued", link="x", held=True)
    taken = step.take(result, None)  # type: ignore[arg-type]  # a result needs no context
    assert isinstance(taken, Advance)
    assert taken.submission is not None
    assert set(taken.submission) == SUBMISSION_FIELDS


def test_an_unknown_service_field_is_pointed_at() -> None:
    text = service(ASKED % '"{{ service.titel }}: thank you"')
    [problem] = problems(text, "E341")
    assert (problem.line, problem.col) == (11, column_of(text, 11, "titel"))
    assert "Did you mean `service.title`?" in problem.hint


def test_a_link_after_a_review_is_an_error_at_the_name() -> None:
    text = service(SUBMITTED % ("review", '"Your permit: {{ submission.link }}"'))
    [problem] = problems(text, "E343")
    assert (problem.line, problem.col) == (17, column_of(text, 17, "link"))
    assert "'submit'" in problem.message


@pytest.mark.parametrize(
    ("mode", "prompt"),
    [
        ("instant", '"Your permit: {{ submission.link }}"'),  # a document is issued now
        ("review", '"Number {{ submission.reference }}"'),
        ("review", '"{% if submission.link %}Permit: {{ submission.link }}{% endif %}"'),
    ],
)
def test_what_a_submission_has_is_not_reported(mode: str, prompt: str) -> None:
    text = service(SUBMITTED % (mode, prompt))
    reported = {p.code for p in check(load_text(text, "service.yaml"))}
    assert not reported & {"E340", "E343", "W343", "W344"}


def test_a_submission_without_document_has_no_link_either() -> None:
    text = service(
        """
        - id: submit
          type: submit
          mode: instant
          assurance: self-declared
          reference_prefix: FX
        - id: done
          type: end
          prompt: "Here: {{ submission.link }}"
        """
    )
    assert [p.line for p in problems(text, "E343")] == [13]


def test_a_submission_read_before_the_submit_step_is_warned() -> None:
    text = service(
        """
        - id: name
          type: text
          prompt: "Name for {{ submission.reference }}"
        - id: submit
          type: submit
          mode: review
          reference_prefix: FX
          wait: "Not sent yet ({{ submission.reference }}). Try again."
        - id: done
          type: end
          prompt: "Number {{ submission.reference }}"
        """
    )
    found = [(p.line, p.col) for p in problems(text, "W344")]
    assert found == [
        (8, column_of(text, 8, "reference")),
        (13, column_of(text, 13, "reference")),
    ]


# --------------------------------------------------------------------------- lookups


LOOKUP = """
- id: cid
  type: national_id
  prompt: Your citizenship ID
- id: citizen
  type: lookup
  url: "https://census.example.gov.bt/citizens/{{ answers.cid }}"
  %s
  on_error: done
- id: done
  type: end
  prompt: "{%% if answers.citizen %%}Hi {{ answers.citizen.%s }}{%% endif %%}"
"""


def test_a_lookup_field_it_does_not_keep_is_pointed_at() -> None:
    text = service(LOOKUP % ("fields: [name, dzongkhag]", "nmae"))
    [problem] = problems(text, "E342")
    assert (problem.line, problem.col) == (16, column_of(text, 16, "nmae"))
    assert "Did you mean `answers.citizen.name`?" in problem.hint


def test_a_registered_phone_is_not_kept() -> None:
    text = service(LOOKUP % ("fields: [name, mobile]\n  registered_phone: mobile", "mobile"))
    [problem] = problems(text, "E342")
    assert "registered_phone" in problem.message


@pytest.mark.parametrize(
    ("fields", "read"), [("fields: [name]", "name"), ("timeout: 2", "anything")]
)
def test_a_kept_field_or_a_whole_reply_is_not_reported(fields: str, read: str) -> None:
    assert problems(service(LOOKUP % (fields, read)), "E342") == []


# --------------------------------------------------------------------------- texts


def test_an_unknown_text_key_says_which_it_meant() -> None:
    head = HEAD + "texts:\n  bad_cdi: Eleven digits.\n  too_short: At least {{ min }}.\n"
    text = service(ASKED % "Bye", head)
    [problem] = problems(text, "E345")
    assert (problem.line, problem.col) == (6, 3)
    assert "Did you mean `bad_cid`?" in problem.hint


def test_a_submission_read_in_a_service_that_submits_nothing_is_warned() -> None:
    text = service(ASKED % '"Your number: {{ submission.reference }}"')
    assert [(p.line, p.col) for p in problems(text, "W344")] == [
        (11, column_of(text, 11, "reference"))
    ]


@pytest.mark.parametrize(
    ("written", "meant"), [("ref", "reference"), ("reference_number", "reference")]
)
def test_an_abbreviated_or_qualified_name_suggests_the_known_one(written: str, meant: str) -> None:
    text = service(SUBMITTED % ("review", f'"Number {{{{ submission.{written} }}}}"'))
    [problem] = problems(text, "E340")
    assert f"Did you mean `submission.{meant}`?" in problem.hint


def test_a_misspelling_in_one_language_is_pointed_at_in_that_language() -> None:
    text = service(
        ASKED % ('\n    en: "Thank you {{ answers.name }}"\n    dz: "བཀྲིན་ཆེ། {{ answers.nmae }}"'),
        HEAD + "languages: [en, dz]\n",
    )
    [problem] = problems(text, "E211")
    assert (problem.line, problem.col) == (14, column_of(text, 14, "nmae"))
