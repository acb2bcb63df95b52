"""`lookup`, `submit` and `end` steps: effect and final steps never parse answers."""

from __future__ import annotations

from dialogs.steps.base import InputStep
from dialogs.steps.end import EndStep
from dialogs.steps.lookup import MAX_TIMEOUT_SECONDS, LookupStep
from dialogs.steps.submit import SubmitStep
from tests.dialogs.helpers import make_step


def test_lookup_is_an_effect_with_an_error_target() -> None:
    built = make_step(
        {
            "id": "citizen",
            "type": "lookup",
            "url": "https://census.example/{{ answers.cid }}",
            "on_error": "manual",
        }
    )
    assert isinstance(built, LookupStep)
    assert not isinstance(built, InputStep)
    assert built.kind == "effect"
    assert built.targets() == ["manual"]
    assert built.method == "GET"
    assert built.timeout == 3.0 <= MAX_TIMEOUT_SECONDS
    assert built.answer_is_saved() is True


def test_submit_and_end() -> None:
    submit = make_step(
        {"id": "submit", "type": "submit", "mode": "review", "reference_prefix": "BR"}
    )
    end = make_step({"id": "done", "type": "end", "prompt": "Bye"})
    assert isinstance(submit, SubmitStep)
    assert submit.kind == "effect"
    assert isinstance(end, EndStep)
    assert end.kind == "final"
    assert end.answer_is_saved() is False
    assert dict(end.texts()) == {"prompt": "Bye"}
