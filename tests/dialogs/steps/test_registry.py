"""Walks the step registry: every registered type has a fixture of answers, and all run.

A fixture `tests/dialogs/fixtures/steps/<type>.yaml` lists cases (a step definition and an
optional context) with the answers it accepts (and the value saved) and the answers it
rejects (with the reason and parameters), plus definitions the schema must refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from dialogs.steps import STEP_TYPES
from dialogs.steps.base import Accepted, InputStep, Rejected
from dialogs.steps.lookup import LookupStep
from tests.dialogs.helpers import FIXTURES_DIR, SERVICES_DIR, make_step, step_context

STEP_FIXTURES = FIXTURES_DIR / "steps"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


FIXTURES: dict[str, dict[str, Any]] = {
    path.stem: _load(path) for path in sorted(STEP_FIXTURES.glob("*.yaml"))
}


def _definition(type_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "answer", "type": type_name}
    if FIXTURES[type_name]["kind"] == "input":
        base["prompt"] = "Question?"
    fields = dict(fields)
    source = fields.pop("options_from", None)
    if isinstance(source, str):
        # What the loader does with `options_from`: the shared list becomes `options`.
        lists = SERVICES_DIR / "lists" / f"{source}.yaml"
        if lists.exists():
            fields["options"] = _load(lists)["options"]
        else:
            fields["options_from"] = source
    return {**base, **fields}


@dataclass(frozen=True)
class AnswerCase:
    type_name: str
    case: str
    step: dict[str, Any]
    context: dict[str, Any]
    answer: str
    saved: Any = None
    reason: str | None = None
    params: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.type_name}-{self.case}-{self.answer!r}"


def _answer_cases(kind: str) -> list[AnswerCase]:
    found: list[AnswerCase] = []
    for type_name, fixture in FIXTURES.items():
        for case in fixture.get("cases", []):
            for item in case.get(kind, []):
                found.append(
                    AnswerCase(
                        type_name=type_name,
                        case=case["name"],
                        step=case["step"],
                        context=case.get("context", {}),
                        answer=item["answer"],
                        saved=item.get("saved"),
                        reason=item.get("reason"),
                        params=item.get("params"),
                    )
                )
    return found


ACCEPTED = _answer_cases("accept")
REJECTED = _answer_cases("reject")


def _context(values: dict[str, Any]) -> Any:
    today = values.get("today")
    assert today is None or isinstance(today, date)
    kwargs: dict[str, Any] = {k: v for k, v in values.items() if k != "today"}
    return step_context(**kwargs) if today is None else step_context(today=today, **kwargs)


def test_every_registered_step_type_has_a_fixture() -> None:
    missing = sorted(set(STEP_TYPES) - set(FIXTURES))
    assert missing == [], f"step types without tests/dialogs/fixtures/steps/<type>.yaml: {missing}"


def test_every_fixture_names_a_registered_type() -> None:
    for name, fixture in FIXTURES.items():
        assert fixture["type"] == name
        assert name in STEP_TYPES, f"fixture for unknown step type {name!r}"


@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_fixture_covers_the_type(type_name: str) -> None:
    fixture = FIXTURES[type_name]
    model = STEP_TYPES[type_name]
    assert fixture["kind"] == model.kind
    assert fixture["cases"], "a fixture needs at least one case"
    assert fixture.get("refuse"), "a fixture lists definitions the schema refuses"
    if issubclass(model, InputStep):
        assert any(case.get("accept") for case in fixture["cases"])
        if type_name != "info":  # info accepts anything by design
            assert any(case.get("reject") for case in fixture["cases"])


@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_cases_build_the_registered_model(type_name: str) -> None:
    for case in FIXTURES[type_name]["cases"]:
        built = make_step(_definition(type_name, case["step"]))
        assert type(built) is STEP_TYPES[type_name]
        assert built.kind == FIXTURES[type_name]["kind"]
        if "targets" in case:
            assert built.targets() == case["targets"]


@pytest.mark.parametrize("case", ACCEPTED, ids=str)
def test_accepted_answers(case: AnswerCase) -> None:
    built = make_step(_definition(case.type_name, case.step))
    assert isinstance(built, InputStep)
    parsed = built.parse(case.answer, _context(case.context))
    assert parsed == Accepted(case.saved)
    assert type(parsed.value) is type(case.saved)  # True is not 1, "12" is not 12


@pytest.mark.parametrize("case", REJECTED, ids=str)
def test_rejected_answers(case: AnswerCase) -> None:
    built = make_step(_definition(case.type_name, case.step))
    assert isinstance(built, InputStep)
    parsed = built.parse(case.answer, _context(case.context))
    assert isinstance(parsed, Rejected), f"accepted as {parsed}"
    assert parsed.reason == case.reason
    assert (dict(parsed.params) if parsed.params else None) == case.params


def _refused() -> list[tuple[str, dict[str, Any]]]:
    return [
        (type_name, fields)
        for type_name, fixture in FIXTURES.items()
        for fields in fixture.get("refuse", [])
    ]


@pytest.mark.parametrize(("type_name", "fields"), _refused(), ids=str)
def test_refused_definitions(type_name: str, fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_step(_definition(type_name, fields))


def _kept() -> list[tuple[dict[str, Any], Any, Any]]:
    return [
        (case["step"], item["data"], item["saved"])
        for case in FIXTURES["lookup"]["cases"]
        for item in case.get("keep", [])
    ]


@pytest.mark.parametrize(("fields", "data", "saved"), _kept())
def test_lookup_keeps_fields(fields: dict[str, Any], data: Any, saved: Any) -> None:
    built = make_step(_definition("lookup", fields))
    assert isinstance(built, LookupStep)
    assert built.keep(data) == saved


def test_bad_rejection_reasons_have_builtin_messages() -> None:
    from dialogs.builtin_texts import BUILTIN_TEXTS

    reasons = {case.reason for case in REJECTED}
    assert reasons <= set(BUILTIN_TEXTS), reasons - set(BUILTIN_TEXTS)
