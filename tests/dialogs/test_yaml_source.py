"""Where a position of YAML text is in its data: the field a problem reported there is
about, so the studio can show it at that field of its form."""

from __future__ import annotations

import pytest

from dialogs.yaml_source import parse_yaml

TEXT = """\
# a comment
id: permit
steps:
  - id: floors
    prompt: {en: How many floors, dz: ཐོག}
    options:
      - {value: one, label: One}
      - value: two
        label: Two
"""


@pytest.mark.parametrize(
    ("line", "col", "path"),
    [
        (1, 1, ()),  # a comment is in no field
        (2, 1, ("id",)),  # the key
        (2, 5, ("id",)),  # the value
        (4, 9, ("steps", 0, "id")),
        (5, 18, ("steps", 0, "prompt", "en")),
        (5, 38, ("steps", 0, "prompt", "dz")),
        (7, 17, ("steps", 0, "options", 0, "value")),
        (9, 16, ("steps", 0, "options", 1, "label")),
    ],
)
def test_a_position_is_in_the_innermost_field_written_there(
    line: int, col: int, path: tuple[str | int, ...]
) -> None:
    _, locator, problems = parse_yaml(TEXT, "permit.yaml")
    assert problems == []
    assert locator.path_at(line, col) == path
    if path:  # and back: the field is found where it was written
        assert locator.find(path)[0] == line


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(9))}]\n"
    for i in range(9)
)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (BOMB, "YAML alias"),  # nine levels: 9**9 leaves if it were walked
        ("title: &t Permit\nagain: *t\n", "YAML alias"),
        ("title: Mar\x00ket\n", "unacceptable character"),
        ("title: bell\x07\n", "unacceptable character"),
        ("[" * 5000, "nested too deeply"),
    ],
)
def test_what_yaml_cannot_read_safely_is_a_problem_not_an_error(text: str, said: str) -> None:
    data, _, problems = parse_yaml(text, "permit.yaml")
    assert data is None
    (problem,) = problems
    assert problem.code == "E001"
    assert said in problem.message
