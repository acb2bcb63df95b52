"""`yes_no` steps: options, labels per language, and what is shown back."""

from __future__ import annotations

from dialogs.builtin_texts import NO_WORDS, YES_WORDS
from dialogs.steps.base import Accepted, Option
from dialogs.steps.yes_no import YesNoStep
from tests.dialogs.helpers import make_step, step_context


def _yes_no(**fields: object) -> YesNoStep:
    built = make_step({"id": "consent", "type": "yes_no", "prompt": "Agree?", **fields})
    assert isinstance(built, YesNoStep)
    return built


def test_options_are_yes_then_no_in_the_language() -> None:
    assert _yes_no().choices(step_context()) == [Option("yes", "Yes"), Option("no", "No")]
    assert _yes_no().choices(step_context(lang="dz")) == [
        Option("yes", "ཨིན།"),
        Option("no", "མེན།"),
    ]


def test_custom_labels_fall_back_to_english() -> None:
    step = _yes_no(yes_label={"en": "I agree"}, no_label="I refuse")
    assert step.choices(step_context(lang="dz")) == [
        Option("yes", "I agree"),
        Option("no", "I refuse"),
    ]
    assert step.parse("i agree", step_context(lang="dz")) == Accepted(True)


def test_word_lists_do_not_overlap() -> None:
    assert not YES_WORDS & NO_WORDS


def test_every_word_is_understood() -> None:
    for word in YES_WORDS:
        assert _yes_no().parse(word.upper(), step_context()) == Accepted(True), word
    for word in NO_WORDS:
        assert _yes_no().parse(f" {word} ", step_context()) == Accepted(False), word


def test_display() -> None:
    assert _yes_no().display(True, step_context()) == "Yes"
    assert _yes_no().display(False, step_context(lang="dz")) == "མེན།"
    assert _yes_no(yes_label="Absolutely").max_display_length() == len("Absolutely")
