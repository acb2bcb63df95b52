"""`choice` steps: numbers, values, labels, typos and ambiguity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dialogs.steps.base import Accepted, Option, Rejected
from dialogs.steps.choice import FUZZY_CUTOFF, ChoiceStep, OptionDef, slug
from tests.dialogs.helpers import SERVICES_DIR, make_step, step_context


def _dzongkhags() -> list[Any]:
    path: Path = SERVICES_DIR / "lists" / "dzongkhags.yaml"
    options = yaml.safe_load(path.read_text(encoding="utf-8"))["options"]
    assert isinstance(options, list)
    return options


def _choice(options: list[Any]) -> ChoiceStep:
    built = make_step({"id": "where", "type": "choice", "prompt": "Where?", "options": options})
    assert isinstance(built, ChoiceStep)
    return built


DZONGKHAGS = _choice(_dzongkhags())


def test_twenty_dzongkhags_numbered_in_order() -> None:
    shown = DZONGKHAGS.choices(step_context())
    assert len(shown) == 20
    for number, option in enumerate(shown, start=1):
        assert DZONGKHAGS.parse(str(number), step_context()) == Accepted(option.value)
        assert DZONGKHAGS.parse(option.label.upper(), step_context()) == Accepted(option.value)
        assert DZONGKHAGS.parse(option.value, step_context()) == Accepted(option.value)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("thimpu", "thimphu"),
        ("Timphu", "thimphu"),
        ("punaka", "punakha"),
        ("mongaar", "mongar"),
        ("trashigan", "trashigang"),
        ("zhemgan", "zhemgang"),
    ],
)
def test_typos_are_tolerated(typed: str, value: str) -> None:
    assert DZONGKHAGS.parse(typed, step_context()) == Accepted(value)


@pytest.mark.parametrize("typed", ["trashi", "sam", "tsa", "xyzzy", "0", "21", "100"])
def test_ambiguous_or_unknown_is_refused(typed: str) -> None:
    assert DZONGKHAGS.parse(typed, step_context()) == Rejected("bad_choice")


def test_fuzzy_cutoff_is_strict_enough() -> None:
    assert FUZZY_CUTOFF >= 80
    assert DZONGKHAGS.parse("paris", step_context()) == Rejected("bad_choice")


def test_plain_strings_get_slug_values() -> None:
    assert OptionDef.model_validate("Samdrup Jongkhar") == OptionDef(
        value="samdrup_jongkhar", label="Samdrup Jongkhar"
    )
    assert slug("Wangdue Phodrang") == "wangdue_phodrang"
    assert slug("Éclair & Co.") == "eclair_co"
    assert slug("ཐིམ་ཕུ") == "ཐིམ་ཕུ"  # nothing ASCII left: the label itself


def test_labels_per_language_and_display() -> None:
    step = _choice([{"value": "a", "label": {"en": "Apple", "dz": "ཀུ་ཤུ"}}, "Pear"])
    assert step.choices(step_context(lang="dz")) == [Option("a", "ཀུ་ཤུ"), Option("pear", "Pear")]
    assert step.display("a", step_context(lang="dz")) == "ཀུ་ཤུ"
    assert step.display("a", step_context()) == "Apple"
    assert step.display("gone", step_context()) == "gone"
    assert step.max_display_length() == 5


def test_very_long_answers_are_refused() -> None:
    assert DZONGKHAGS.parse("thimphu " * 30, step_context()) == Rejected("bad_choice")
