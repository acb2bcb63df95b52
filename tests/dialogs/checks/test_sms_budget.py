"""W260/W400: the SMS budget (`limits.sms_max_segments`) holds in every language of a
service: a Dzongkha text costs UCS-2 parts, and a list's options count, as the engine
sends them. One warning per language over the budget, naming it, at the step's line."""

from __future__ import annotations

from pathlib import Path

from dialogs.checks import sms_segments
from dialogs.loader import load_text
from dialogs.problems import Problem
from gateway.catalog.repository import load_repository

ROOT = Path(__file__).resolve().parents[3]

# Twelve districts: a short English list, a Dzongkha one three UCS-2 parts long.
DISTRICTS = [
    {"value": f"d{n}", "label": {"en": f"District {n}", "dz": f"རྫོང་ཁག་ཆེན་པོ་ {n}"}}
    for n in range(1, 13)
]

SERVICE = """\
format: 1
id: permit
version: 1
title: {{en: Permit, dz: ཆོག་ཐམ}}
languages: [en, dz]
{limits}
steps:
  - id: district
    type: choice
    prompt:
      en: "{prompt_en}"
      dz: "{prompt_dz}"
    options_from: districts
  - id: done
    type: end
    prompt: {{en: Thank you., dz: བཀྲིན་ཆེ།}}
"""


def _budget(
    *, prompt_en: str = "District", prompt_dz: str = "རྫོང་ཁག", limits: str = ""
) -> list[Problem]:
    text = SERVICE.format(prompt_en=prompt_en, prompt_dz=prompt_dz, limits=limits)
    loaded = load_text(text, "permit.yaml", {"districts": DISTRICTS})
    assert loaded.definition is not None, loaded.problems
    return sms_segments.run(loaded)


def test_a_list_over_the_budget_in_one_language_is_reported_for_that_language() -> None:
    (warning,) = _budget()
    assert (warning.code, warning.line, warning.col) == ("W400", 8, 5)  # `- id: district`
    assert "'district' with its options needs 3 SMS parts in language 'dz'" in warning.message
    assert "UCS-2" in warning.message
    assert "dz" in warning.hint


def test_each_language_over_the_budget_gets_its_warning() -> None:
    long_en = "Which district? " * 12  # the English options no longer fit beside it
    problems = _budget(prompt_en=long_en.strip())
    assert sorted((p.code, p.line, p.message.split("language ")[1][:4]) for p in problems) == [
        ("W400", 8, "'dz'"),
        ("W400", 8, "'en'"),
    ]


def test_a_prompt_over_the_budget_is_reported_in_every_language() -> None:
    long_dz = "རྫོང་ཁག་གང་ནང་ཡོདཔ་ཨིན་ན་ " * 8
    problems = _budget(prompt_en=("Which district? " * 22).strip(), prompt_dz=long_dz.strip())
    # Each at the line of its own text.
    assert sorted((p.line, p.code, p.message.split("language ")[1][:4]) for p in problems) == [
        (11, "W260", "'en'"),
        (12, "W260", "'dz'"),
    ]


def test_a_budget_that_allows_the_parts_is_kept_quiet() -> None:
    assert _budget(limits="limits: {sms_max_segments: 3}") == []


def test_the_shipped_dzongkha_district_list_is_over_the_default_budget() -> None:
    repository = load_repository([ROOT / "services"])
    loaded = next(
        item
        for item in repository.loaded
        if item.definition and item.definition.id == "business-registration"
    )
    warnings = [p for p in sms_segments.run(loaded) if "'location'" in p.message]
    assert [w.code for w in warnings] == ["W400"]
    assert "language 'dz'" in warnings[0].message
    assert "3 SMS parts" in warnings[0].message
