"""`text` steps beyond the fixture table: whitespace, limits and what is shown back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.steps.base import Accepted, Rejected
from dialogs.steps.text import DEFAULT_MAX_LENGTH, TextStep
from tests.dialogs.helpers import make_step, step_context


def _text(**fields: object) -> TextStep:
    built = make_step({"id": "name", "type": "text", "prompt": "Name?", **fields})
    assert isinstance(built, TextStep)
    return built


def test_default_limit_is_one_hundred_characters() -> None:
    step = _text()
    assert DEFAULT_MAX_LENGTH == 100
    assert step.parse("x" * 100, step_context()) == Accepted("x" * 100)
    assert step.parse("x" * 101, step_context()) == Rejected("too_long", {"max": 100})


def test_limits_count_characters_after_collapsing_spaces() -> None:
    step = _text(max_length=5)
    assert step.parse("a  b  c", step_context()) == Accepted("a b c")
    assert step.parse("  ab   cd  ", step_context()) == Accepted("ab cd")


def test_pattern_must_match_the_whole_answer() -> None:
    step = _text(pattern="[0-9]+")
    assert step.parse("123", step_context()) == Accepted("123")
    assert step.parse("123a", step_context()) == Rejected("pattern")
    assert step.parse("a123", step_context()) == Rejected("pattern")


def test_display_and_size() -> None:
    step = _text(max_length=40)
    assert step.display("Pema", step_context()) == "Pema"
    assert step.display(None, step_context()) == ""
    assert step.max_display_length() == 40


def test_prompt_help_and_error_are_texts() -> None:
    step = _text(help="Your full name", error={"en": "Letters only", "dz": "ཡིག་འབྲུ"})
    assert dict(step.texts()) == {
        "prompt": "Name?",
        "help": "Your full name",
        "error": {"en": "Letters only", "dz": "ཡིག་འབྲུ"},
    }


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(max_size=300))
def test_accepted_text_is_collapsed_and_within_bounds(raw: str) -> None:
    step = _text(min_length=2, max_length=40)
    parsed = step.parse(raw, step_context())
    if isinstance(parsed, Accepted):
        value = parsed.value
        assert isinstance(value, str)
        assert 2 <= len(value) <= 40
        assert value == value.strip()
        assert "  " not in value
        assert "\n" not in value
        assert "\t" not in value
    else:
        assert parsed.reason in {"required", "too_short", "too_long"}
