"""Problems between files and in the files around a definition: ids, reference prefixes,
shared lists, secrets in headers, unclosed quotes, a text without the default language.

Each test writes the mistake into a folder (or a text) and expects its code at the line
(and column) of the cause.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialogs.checker import check
from dialogs.checks import CODES, FOLDER_CODES
from dialogs.loader import load_text
from dialogs.problems import Problem
from dialogs.yaml_source import UNCLOSED_QUOTE
from gateway.catalog.repository import Repository, load_repository
from gateway.cli.main import app


def service(service_id: str, steps: str = "", *, prefix: str = "") -> str:
    """A minimal valid definition; `prefix` adds a submit step with that reference prefix."""
    text = f"format: 1\nid: {service_id}\nversion: 1\ntitle: Test\nsteps:\n"
    text += textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n" if steps else ""
    if prefix:
        text += (
            "  - id: submit\n    type: submit\n    mode: review\n"
            f"    reference_prefix: {prefix}\n    next: done\n"
        )
    return text + "  - id: done\n    type: end\n    prompt: Thank you\n"


def folder(tmp_path: Path, files: dict[str, str]) -> Repository:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_repository([tmp_path])


def at(problems: list[Problem], code: str) -> list[tuple[str, int, int]]:
    return [(Path(p.file).name, p.line, p.col) for p in problems if p.code == code]


def problems_of(text: str) -> list[Problem]:
    loaded = load_text(text, "service.yaml")
    return loaded.problems + check(loaded)


# ------------------------------------------------------------------ between files


def test_a_second_definition_with_the_same_id_is_an_error_naming_the_first(
    tmp_path: Path,
) -> None:
    repository = folder(
        tmp_path, {"permit.yaml": service("permit"), "permit2.yaml": service("permit")}
    )
    assert at(repository.problems, "E360") == [("permit2.yaml", 2, 5)]
    (problem,) = [p for p in repository.problems if p.code == "E360"]
    assert str(tmp_path / "permit.yaml") in problem.message
    # The first one is published; the second does not silently replace it.
    first, second = repository.loaded
    compiled = repository.catalog.get("permit")
    assert compiled is not None
    assert compiled.definition is first.definition
    assert [p.code for p in second.problems if p.severity == "error"] == ["E361", "E360"]


def test_an_id_that_is_not_the_file_name_is_an_error_at_the_id(tmp_path: Path) -> None:
    repository = folder(tmp_path, {"business-registration.yaml": service("business-reg")})
    assert at(repository.problems, "E361") == [("business-registration.yaml", 2, 5)]
    (problem,) = repository.problems
    assert "`id: business-registration`" in problem.hint
    assert repository.catalog.get("business-reg") is None


def test_a_reference_prefix_used_by_two_services_is_an_error_at_the_second(
    tmp_path: Path,
) -> None:
    repository = folder(
        tmp_path,
        {"alpha.yaml": service("alpha", prefix="BR"), "beta.yaml": service("beta", prefix="BR")},
    )
    assert at(repository.problems, "E362") == [("beta.yaml", 9, 23)]
    (problem,) = [p for p in repository.problems if p.code == "E362"]
    assert "'alpha'" in problem.message
    assert repository.catalog.get("alpha") is not None
    assert repository.catalog.get("beta") is None


def test_an_id_belongs_to_the_file_named_after_it(tmp_path: Path) -> None:
    # The copy sorts first (`-` before `.`): still the copy is told to change.
    repository = folder(
        tmp_path, {"permit.yaml": service("permit"), "permit-v2.yaml": service("permit")}
    )
    assert at(repository.problems, "E360") == [("permit-v2.yaml", 2, 5)]
    assert at(repository.problems, "E361") == [("permit-v2.yaml", 2, 5)]
    assert repository.service("permit") is not None


def test_a_prefix_belongs_to_the_service_whose_initials_it_spells(tmp_path: Path) -> None:
    # bus-service-permit (earlier in the folder) took drone-flight-authorization's DFA.
    repository = folder(
        tmp_path,
        {
            "bus-service-permit.yaml": service("bus-service-permit", prefix="DFA"),
            "drone-flight-authorization.yaml": service("drone-flight-authorization", prefix="DFA"),
        },
    )
    assert at(repository.problems, "E362") == [("bus-service-permit.yaml", 9, 23)]
    (problem,) = repository.problems
    assert "'drone-flight-authorization'" in problem.message
    assert "'BSP'" in problem.hint


def test_one_service_may_use_its_prefix_in_several_steps(tmp_path: Path) -> None:
    steps = "- id: first\n  type: submit\n  mode: review\n  reference_prefix: AL\n  next: submit"
    repository = folder(tmp_path, {"alpha.yaml": service("alpha", steps, prefix="AL")})
    assert repository.problems == []


def test_a_file_name_with_underscores_matches_its_id(tmp_path: Path) -> None:
    # Ids cannot hold `_`: `step-national-id` is as near as `step-national_id.yaml` gets.
    repository = folder(tmp_path, {"step-national_id.yaml": service("step-national-id")})
    assert repository.problems == []


def test_distinct_ids_names_and_prefixes_are_fine(tmp_path: Path) -> None:
    repository = folder(
        tmp_path,
        {"alpha.yaml": service("alpha", prefix="AL"), "beta.yaml": service("beta", prefix="BE")},
    )
    assert repository.problems == []


def test_folder_codes_are_not_claimed_by_a_per_file_check() -> None:
    assert set(FOLDER_CODES) == {"E360", "E361", "E362"}
    assert not set(FOLDER_CODES) & set(CODES)


def test_gateway_check_prints_problems_between_files(tmp_path: Path) -> None:
    folder(tmp_path, {"permit.yaml": service("permit"), "other.yaml": service("permit")})
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'other.yaml'}:2:5: E360" in result.output


# ------------------------------------------------------------------ shared lists

CHOICE = """
- id: place
  type: choice
  prompt: Where?
  options_from: places
  next: done
"""


def test_a_shared_lists_own_problem_is_reported_once_in_the_list_file(tmp_path: Path) -> None:
    places = "options:\n  - Paro\n  - {value: thimphu}\n  - {value: haa, label: Haa, lable: x}\n"
    repository = folder(
        tmp_path,
        {
            "lists/places.yaml": places,
            "alpha.yaml": service("alpha", CHOICE),
            "beta.yaml": service("beta", CHOICE),
            "gamma.yaml": service("gamma"),
        },
    )
    assert at(repository.problems, "E010") == [("places.yaml", 3, 5)]  # missing label
    assert at(repository.problems, "E011") == [("places.yaml", 4, 30)]
    # Each service using it is refused, pointed at the list; the others go on.
    assert at(repository.problems, "E016") == [("alpha.yaml", 9, 19), ("beta.yaml", 9, 19)]
    assert sorted(repository.catalog.published) == ["gamma"]


def test_a_shared_lists_option_is_checked_at_its_own_line(tmp_path: Path) -> None:
    places = "options:\n  - Paro\n  - {value: thimphu, label: Thimphu’s}\n"
    repository = folder(
        tmp_path,
        {
            "lists/places.yaml": places,
            "alpha.yaml": service("alpha", CHOICE),
            "beta.yaml": service("beta", CHOICE),
        },
    )
    assert at(repository.problems, "E255") == [("places.yaml", 3, 29)]


def test_an_unreadable_list_file_is_reported_there(tmp_path: Path) -> None:
    repository = folder(
        tmp_path, {"lists/places.yaml": "title: Places\n", "alpha.yaml": service("alpha", CHOICE)}
    )
    assert at(repository.problems, "E003") == [("places.yaml", 1, 1)]
    assert at(repository.problems, "E016") == [("alpha.yaml", 9, 19)]


# ------------------------------------------------------------------ secrets in headers

LOOKUP = """
- id: citizen
  type: lookup
  url: "https://census.example.gov.bt/citizens/1"
  headers:
    %s
  on_error: done
  next: done
"""


@pytest.mark.parametrize(
    "header",
    [
        "Authorization: Bearer eyJhbGciOi",
        "X-Api-Key: 3f9a1c77e2",
        "X-Registry-Token: abc",
        "Client-Secret: abc",
        "X-Password: hunter2",
        "X-Custom: Bearer abc",  # the value reads like a credential
        'Authorization: "Bearer env:CENSUS_TOKEN"',  # only a whole `env:NAME` is read
    ],
)
def test_a_literal_secret_in_headers_is_an_error_at_its_line(header: str) -> None:
    found = problems_of(service("fixture", LOOKUP % header))
    value_col = 7 + len(header.split(":")[0]) + 2  # at the written value
    assert [(p.code, p.line, p.col) for p in found if p.code == "E363"] == [("E363", 10, value_col)]
    (problem,) = [p for p in found if p.code == "E363"]
    assert "env:CITIZEN_" in problem.hint


@pytest.mark.parametrize(
    "header",
    [
        "Authorization: env:CENSUS_API_TOKEN",
        "X-Api-Key: env:KEY",
        "Accept: application/json",
        "Accept-Language: dz",
        "User-Agent: citizen-gateway",
    ],
)
def test_references_and_plain_headers_are_fine(header: str) -> None:
    assert [p for p in problems_of(service("fixture", LOOKUP % header)) if p.code == "E363"] == []


# ------------------------------------------------------------------ unclosed quotes

TEXT_STEPS = """
- id: name
  type: text
  prompt: {first}
- id: age
  type: number
  prompt: {second}
"""


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ('"Your name', "How old are you?"),  # runs to the end of the file
        ('"Your name', '"How old are you?"'),  # runs on until the next quote closes it
        ("'Your name", "'How old are you?'"),
    ],
)
def test_an_unclosed_quote_is_reported_where_it_opened(first: str, second: str) -> None:
    text = service("fixture", TEXT_STEPS.format(first=first, second=second))
    (problem,) = load_text(text, "service.yaml").problems
    assert (problem.code, problem.line, problem.col) == ("E001", 8, 13)
    assert problem.hint == UNCLOSED_QUOTE


@pytest.mark.parametrize(
    "prompt",
    [
        '"Your\n    name" x',  # a text meant to span lines, closed where it should be
        '"C:\\q"',  # a wrong escape inside a closed quote
    ],
)
def test_other_quoting_mistakes_are_not_called_unclosed(prompt: str) -> None:
    text = service("fixture", f"- id: name\n  type: text\n  prompt: {prompt}\n")
    (problem,) = load_text(text, "service.yaml").problems
    assert problem.code == "E001"
    assert problem.hint != UNCLOSED_QUOTE


# ------------------------------------------------------------------ default language


def test_a_text_without_the_default_language_says_so_and_not_gsm() -> None:
    steps = """
    - id: name
      type: text
      prompt: {dz: ཁྱོད་ཀྱི་མིང}
    """
    found = problems_of(service("fixture", steps))
    assert [(p.code, p.line, p.col) for p in found if p.severity == "error"] == [("E364", 8, 13)]
    (problem,) = [p for p in found if p.code == "E364"]
    assert problem.message == "no English text (the default language `en`)"
    assert "{en: ..., dz: ...}" in problem.hint


def test_a_text_with_the_default_language_is_fine() -> None:
    steps = """
    - id: name
      type: text
      prompt: {en: Your name, dz: ཁྱོད་ཀྱི་མིང}
    """
    text = service("fixture", steps).replace("title: Test", "title: Test\nlanguages: [en, dz]")
    assert [p for p in problems_of(text) if p.code in ("E364", "E255")] == []


def test_a_file_named_twice_is_not_its_own_duplicate(tmp_path: Path) -> None:
    folder(tmp_path, {"permit.yaml": service("permit")})
    repository = load_repository([tmp_path, tmp_path / "permit.yaml"])
    assert repository.problems == []
