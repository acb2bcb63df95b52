"""Walks the step registry: every registered type has a fixture, and all of it runs.

A fixture `tests/dialogs/fixtures/steps/<type>.yaml` lists cases (a step definition and an
optional context) with the answers it accepts (and the value saved) and the answers it
rejects (with the reason and parameters), plus definitions the schema must refuse, and a
small `service:` using the type. That service passes `gateway check`, compiles, and the
engine runs it on every channel (examples answered, a bad answer refused with the type's
message); the translations check finds the type's texts and the USSD check sizes its
answer. Nothing but the type's module and the registry knows the type: a new type is its
module, a line in `dialogs/steps/__init__.py` and its fixture.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.catalog import Catalog
from dialogs.checks import translations
from dialogs.compiler import CompiledService
from dialogs.conversation_tests import PERFORMERS, Case, CaseResult, Exchange, Mocks, not_understood
from dialogs.driver import run
from dialogs.media import Medium
from dialogs.messages import Inbound, Outcome
from dialogs.schema import json_schema
from dialogs.session import Snapshot
from dialogs.steps import STEP_TYPES, StepBase
from dialogs.steps.base import Accepted, FieldPath, InputStep, Rejected, StepContext
from dialogs.steps.lookup import LookupStep
from dialogs.text import localise
from gateway.catalog.repository import Repository, load_repository
from tests.dialogs.helpers import (
    CENSUS_MOBILE,
    FIXTURES_DIR,
    NOW,
    SERVICES_DIR,
    TODAY,
    make_step,
    screen_text,
    step_context,
)

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


@pytest.mark.parametrize("case", REJECTED, ids=str)
def test_the_checker_knows_each_reason(case: AnswerCase) -> None:
    """A refused answer's message is among those the step gives the checker to size."""
    built = make_step(_definition(case.type_name, case.step))
    assert isinstance(built, InputStep)
    assert case.reason in {reason for reason, _ in built.rejections()}
    assert case.reason in BUILTIN_TEXTS  # a step type's own messages are registered


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


# ---------------------------------------------------------------- a service of each type
# Each fixture's `service:` uses the type in a small service whose step `answer` is of the
# type. Checked, compiled and run with nothing else knowing the type: the checker, the
# compiler, the engine and the conversation tests' effects take it from the registry.
SERVICE_HEAD = {"format": 1, "version": 1}
WORST_LANG = "xx"  # a language no text is given in: every text lacks it
USSD_LIMIT = 182  # septets on one USSD screen


def _checked(
    folder: Path, type_name: str, steps: list[Any] | None = None, **extra: Any
) -> Repository:
    """The fixture's service (or these `steps`) in a services folder, as `gateway check`
    loads and checks it."""
    data = {
        **SERVICE_HEAD,
        "id": "step-" + type_name.replace("_", "-"),
        "title": f"A {type_name} step",
        **extra,
        "steps": steps or FIXTURES[type_name]["service"]["steps"],
    }
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SERVICES_DIR / "lists", folder / "lists", dirs_exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (folder / f"step-{type_name}.yaml").write_text(text, encoding="utf-8")
    return load_repository([folder])


def _compiled(folder: Path, type_name: str) -> tuple[Catalog, CompiledService]:
    repository = _checked(folder, type_name)
    errors = [p.format() for p in repository.problems if p.severity == "error"]
    assert errors == []
    service = repository.service(f"step-{type_name}")
    assert service is not None
    return repository.catalog, service


def _answer_step(service: CompiledService, type_name: str) -> StepBase:
    step = service.steps["answer"]
    assert type(step) is STEP_TYPES[type_name], "the fixture's step `answer` is of the type"
    return step


def _ctx(service: CompiledService, answers: Any = None) -> StepContext:
    return StepContext("en", TODAY, service.definition.phone_region, answers or {}, _english)


def _english(text: Any) -> str:
    return localise(text, "en")


def test_every_fixture_has_a_service() -> None:
    missing = sorted(
        name for name in STEP_TYPES if "steps" not in FIXTURES.get(name, {}).get("service", {})
    )
    assert missing == [], f"fixtures without a `service:` using their type: {missing}"


@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_the_service_passes_the_checker_and_compiles(tmp_path: Path, type_name: str) -> None:
    _, service = _compiled(tmp_path / "services", type_name)
    _answer_step(service, type_name)


@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_the_examples_are_accepted(tmp_path: Path, type_name: str) -> None:
    _, service = _compiled(tmp_path / "services", type_name)
    step = _answer_step(service, type_name)
    examples = step.examples(_ctx(service))
    if not isinstance(step, InputStep):
        assert examples == []  # it asks nothing
        return
    assert examples, "a question gives examples of what it accepts"
    for example in examples:
        assert isinstance(step.parse(example, _ctx(service)), Accepted), example


@pytest.mark.parametrize("medium", list(Medium))
@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_the_engine_runs_the_service(tmp_path: Path, type_name: str, medium: Medium) -> None:
    """Dial; answer every question with its first example, except a bad answer first at
    the step of the type, which is refused with the type's own message; reach the end."""
    catalog, service = _compiled(tmp_path / "services", type_name)
    step = _answer_step(service, type_name)
    bad = FIXTURES[type_name]["service"].get("reject")
    case = Case(name=type_name, steps=[Exchange()])
    mocks = Mocks(case, service, not_understood, CaseResult(type_name, medium))

    def send(snapshot: Snapshot | None, text: str) -> Outcome:
        inbound = Inbound(
            text=text,
            medium=medium,
            now=NOW,
            service=service.id,
            conversation_id="registry",
            phone=CENSUS_MOBILE,
        )
        return run(catalog, snapshot, inbound, lambda effect: PERFORMERS(effect, mocks))

    outcome = send(None, "")
    visited = {event["step"] for event in outcome.events}
    refused = bad is None
    for _ in range(len(service.order) + 2):
        snapshot = outcome.snapshot
        if snapshot.ended:
            break
        current = service.steps[snapshot.step]
        assert isinstance(current, InputStep), f"waits at {current.id!r}, which asks nothing"
        if current is step and not refused:
            outcome, refused = send(snapshot, bad), True
            parsed = step.parse(bad, _ctx(service, snapshot.answers))
            assert isinstance(parsed, Rejected)
            assert parsed.reason in {reason for reason, _ in step.rejections()}
            message = service.render(service.builtin(parsed.reason), "en", parsed.params or {})
            shown = "\n".join(screen_text(r, medium) for r in outcome.replies)
            assert message.casefold() in shown.casefold()
            assert outcome.snapshot.step == step.id
        else:
            answer = current.examples(_ctx(service, snapshot.answers))[0]
            outcome = send(snapshot, answer)
        visited |= {event["step"] for event in outcome.events}
    assert mocks.result.failures == []
    assert outcome.snapshot.ended, f"stuck at {outcome.snapshot.step!r}"
    assert refused
    assert step.id in visited
    if isinstance(step, InputStep) and step.answer_is_saved():
        example = step.examples(_ctx(service))[0]
        saved = step.parse(example, _ctx(service))
        assert outcome.snapshot.answers[step.id] == getattr(saved, "value", None)


def _text_paths(schema: Mapping[str, Any], node: Any, data: Any, path: FieldPath) -> set[FieldPath]:
    """Where `data` holds a text, by the JSON Schema's `text: true` marks (not by asking
    the step): an oracle for the texts a type must report."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    if node.get("text") is True:
        return {path} if data is not None else set()
    found: set[FieldPath] = set()
    for option in node.get("anyOf", []):
        found |= _text_paths(schema, option, data, path)
    if isinstance(data, dict):
        for key, value in data.items():
            if key in node.get("properties", {}):
                found |= _text_paths(schema, node["properties"][key], value, (*path, key))
    if isinstance(data, list) and "items" in node:
        for index, value in enumerate(data):
            found |= _text_paths(schema, node["items"], value, (*path, index))
    return found


@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_the_translations_check_finds_its_texts(tmp_path: Path, type_name: str) -> None:
    """In a language no text is given in, every text of the step (as the schema marks
    them) is reported missing, and the step reports the same texts itself."""
    repository = _checked(tmp_path / "services", type_name, languages=["en", WORST_LANG])
    (loaded,) = repository.loaded
    assert loaded.definition is not None
    index = [s.id for s in loaded.definition.step_list].index("answer")
    step = loaded.definition.step_list[index]
    schema = json_schema()
    model = schema["$defs"][type(step).__name__]
    texts = _text_paths(schema, model, step.model_dump(mode="json", by_alias=True), ())
    assert {path for path, _ in step.every_text()} == texts
    if isinstance(step, InputStep):
        assert ("prompt",) in texts
    missing = {path for path, langs in translations.missing_translations(loaded.definition)}
    for path in texts:
        assert ("steps", index, *path) in missing, path
    if not texts:
        return  # a step without texts (a lookup) has nothing to translate
    # One warning for the step, naming its texts, at its first text.
    (warning,) = [
        p
        for p in translations.run(loaded)
        if p.code == "W240" and p.message.startswith("step 'answer'")
    ]
    assert all(str(path[0]) in warning.message for path in texts)
    first, _ = next(step.every_text())
    where = loaded.at(["steps", index, *first], "W240", "")
    assert (warning.line, warning.col) == (where.line, where.col)


@pytest.mark.parametrize("type_name", sorted(STEP_TYPES))
def test_the_ussd_check_sizes_its_answer(tmp_path: Path, type_name: str) -> None:
    """A closing screen of letters and the answer fits USSD when the letters leave room
    for the type's worst-case answer, and not with one letter more. (A step that saves
    no answer is sized as a screen of its own: its question, summary or closing text.)"""
    _, service = _compiled(tmp_path / "services", type_name)
    step = _answer_step(service, type_name)
    if not step.answer_is_saved():
        return  # nothing to show: the variables check refuses `labels.answer`
    longest = step.answer_length()
    assert longest > 0
    steps = [s for s in FIXTURES[type_name]["service"]["steps"] if s["id"] != "done"]

    def closing(padding: int) -> set[str]:
        """Problems when the service ends on `padding` letters and the answer."""
        prompt = "y" * padding + "{{ labels.answer }}"
        end = {"id": "done", "type": "end", "prompt": prompt}
        repository = _checked(tmp_path / str(padding), type_name, [*steps, end])
        return {p.code for p in repository.problems}

    if longest <= USSD_LIMIT:
        assert "E252" not in closing(USSD_LIMIT - longest)
        assert "E252" in closing(USSD_LIMIT - longest + 1)
    else:
        assert "E252" in closing(0)
