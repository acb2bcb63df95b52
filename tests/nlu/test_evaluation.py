"""Evaluating a classifier against a labelled set."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.messages import Entity, Meaning
from nlu.evaluation import EvalCase, evaluate, load_cases

CASES_YAML = """
- {text: "reg biz", intent: business-registration, lang: en}
- {text: "Pema Wangmo", intent: null}
- {text: "asdfgh", intent: none}
- {text: "drone over paro", intent: drone-flight-authorization, entities: {dzongkhags: paro}}
- {text: "help", intent: help, lang: dz}
"""


async def fake(text: str, lang: str) -> Meaning:
    """Knows "reg biz" and "help"; says drone for anything with "drone" but unsure of it,
    and takes a name for a business registration."""
    if text == "reg biz":
        return Meaning(text, "business-registration", 0.9)
    if text == "help":
        return Meaning(text, "help", 0.95)
    if "drone" in text:
        return Meaning(
            text, "drone-flight-authorization", 0.4, entities=(Entity("dzongkhags", "paro"),)
        )
    if text == "Pema Wangmo":
        return Meaning(text, "business-registration", 0.6)
    return Meaning(text)


def test_load_cases(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES_YAML, encoding="utf-8")
    cases = load_cases(path)
    assert cases[0] == EvalCase("reg biz", "business-registration", "en")
    assert [case.intent for case in cases[1:3]] == [None, None]
    assert cases[3].entities == {"dzongkhags": "paro"}
    assert cases[4].lang == "dz"


def test_load_cases_rejects_malformed(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("- {intent: help}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="case 1"):
        load_cases(path)


async def test_evaluate_counts_low_confidence_as_none(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES_YAML, encoding="utf-8")
    report = await evaluate(fake, load_cases(path))
    assert report.total == 5
    # right: reg biz, asdfgh, help; wrong: Pema Wangmo (a service), drone (below 0.5)
    assert report.correct == 3
    assert report.accuracy == pytest.approx(0.6)
    assert [o.case.text for o in report.misclassified] == ["Pema Wangmo", "drone over paro"]
    assert report.misclassified[1].predicted is None
    assert report.entity_accuracy == 1.0

    scores = {score.intent: score for score in report.per_intent()}
    registration = scores["business-registration"]
    assert (registration.precision, registration.recall) == (0.5, 1.0)
    assert (registration.support, registration.predicted) == (1, 2)
    drone = scores["drone-flight-authorization"]
    assert (drone.precision, drone.recall, drone.support) == (0.0, 0.0, 1)
    none = scores["(none)"]
    assert (none.precision, none.recall, none.support) == (0.5, 0.5, 2)
    assert list(scores)[-1] == "(none)"


async def test_format_is_a_readable_table(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES_YAML, encoding="utf-8")
    text = (await evaluate(fake, load_cases(path))).format()
    assert "precision  recall  support" in text
    assert "accuracy: 60.0% (3/5)" in text
    assert "'Pema Wangmo' [en]: expected (none), got business-registration (0.60)" in text
    assert "business-registration" in text.splitlines()[2]


async def test_empty_set() -> None:
    report = await evaluate(fake, [])
    assert report.accuracy == 0.0
    assert "accuracy: 0.0% (0/0)" in report.format()
