"""The compiler: steps become states, `next`/branches/errors/edits become transitions."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs.catalog import Catalog
from dialogs.compiler import (
    EDIT,
    FAIL,
    NEXT,
    CompiledService,
    branches_of,
    definition_texts,
)
from dialogs.expressions import ExpressionError
from dialogs.steps.base import Branch
from dialogs.text import localise
from tests.dialogs.helpers import FISHING_V1, PET_LICENCE, compile_yaml, make_step


@pytest.fixture(scope="module")
def fishing() -> CompiledService:
    return compile_yaml(FISHING_V1)


def _ctx(**answers: Any) -> dict[str, Any]:
    return {"answers": answers}


def test_identity_and_order(fishing: CompiledService) -> None:
    assert (fishing.id, fishing.version) == ("fishing-permit", 1)
    assert fishing.order == ("holder", "river", "boat", "days", "review", "done")
    assert fishing.start == "holder"
    assert set(fishing.steps) == set(fishing.order)
    assert repr(fishing) == "<CompiledService fishing-permit v1: 6 steps>"


def test_next_follows_order_and_branches(fishing: CompiledService) -> None:
    assert fishing.fire(NEXT, "holder", _ctx()) == "river"
    assert fishing.fire(NEXT, "river", _ctx(river="wang_chhu")) == "boat"
    assert fishing.fire(NEXT, "river", _ctx(river="mo_chhu")) == "days"
    assert fishing.fire(NEXT, "river", {}) == "days"  # a condition that fails is false
    assert fishing.fire(NEXT, "boat", _ctx()) == "days"
    assert fishing.fire(NEXT, "review", _ctx()) == "done"
    assert fishing.fire(NEXT, "done", _ctx()) is None  # the end goes nowhere


def test_branches(fishing: CompiledService) -> None:
    assert fishing.branches["holder"] == (Branch(goto="river"),)
    assert [b.goto for b in fishing.branches["river"]] == ["boat", "days"]
    assert fishing.branches["done"] == ()


def test_edit_targets_are_the_summary_fields(fishing: CompiledService) -> None:
    # no `fields:`: every step that saves an answer, in order
    assert fishing.edit_targets == {"review": ("holder", "river", "boat", "days")}
    assert fishing.fire(EDIT, "review", _ctx(), target="days") == "days"
    assert fishing.fire(EDIT, "review", _ctx(), target="done") is None
    assert fishing.fire(EDIT, "holder", _ctx(), target="days") is None


def test_back_and_restart(fishing: CompiledService) -> None:
    # Not moves of the service: the engine knows their targets (its trail, the start), so
    # the machine holds no transition for them, none between every pair of steps.
    assert fishing.machine.get_triggers(*fishing.order) == [NEXT, EDIT]
    assert fishing.fire("back", "days", _ctx(), target="holder") is None
    for name in fishing.order:
        assert fishing.fire("restart", name, _ctx()) is None
    assert fishing.fire("no-such-event", "holder", _ctx()) is None


def test_lookup_failure_goes_to_on_error() -> None:
    pet = compile_yaml(PET_LICENCE)
    assert pet.fire(NEXT, "owner", _ctx()) == "pet"
    assert pet.fire(FAIL, "owner", _ctx()) == "owner_name"
    assert pet.fire(FAIL, "cid", _ctx()) is None
    assert pet.fire(NEXT, "owner_name", _ctx()) == "pet"


def test_templates_are_compiled_once(fishing: CompiledService) -> None:
    prompt = "Permit for {{ answers.holder }} on {{ labels.river }}."
    assert prompt in fishing.templates
    assert fishing.render(
        prompt, "en", {"answers": {"holder": "Pema"}, "labels": {"river": "Mo"}}
    ) == ("Permit for Pema on Mo.")
    assert fishing.render({"en": "Your name", "dz": "ཁྱོད་ཀྱི་མིང"}, "dz", {}) == "ཁྱོད་ཀྱི་མིང"
    assert fishing.render({"en": "Your name", "dz": "ཁྱོད་ཀྱི་མིང"}, "fr", {}) == "Your name"
    assert fishing.render(None, "en", {}) == ""


def test_url_templates_percent_encode() -> None:
    pet = compile_yaml(PET_LICENCE)
    url = "https://census.example/api/{{ answers.cid }}"
    assert set(pet.url_templates) == {url}
    assert pet.render_url(url, _ctx(cid="1/2?x")) == "https://census.example/api/1%2F2%3Fx"


def test_builtin_texts_can_be_overridden() -> None:
    text = FISHING_V1.replace("steps:", "texts:\n  bad_choice: {en: Pick a number.}\nsteps:", 1)
    service = compile_yaml(text)
    assert service.builtin("bad_choice") == {"en": "Pick a number."}
    assert localise(compile_yaml(FISHING_V1).builtin("bad_choice"), "en") == (
        "Please reply with one of the numbers shown."
    )


def test_definition_texts_list_every_citizen_facing_text(fishing: CompiledService) -> None:
    paths = {path for path, _ in definition_texts(fishing.definition)}
    assert ("title",) in paths
    assert ("help",) in paths
    assert ("steps", 0, "prompt") in paths
    assert ("steps", 0, "help") in paths
    assert ("steps", 1, "options", 2, "label") in paths
    assert ("steps", 5, "prompt") in paths


def test_branches_of() -> None:
    text = make_step({"id": "a", "type": "text", "prompt": "?"})
    end = make_step({"id": "z", "type": "end", "prompt": "bye"})
    jump = make_step({"id": "b", "type": "text", "prompt": "?", "next": "z"})
    assert branches_of(text, "b") == [Branch(goto="b")]
    assert branches_of(text, None) == []
    assert branches_of(jump, "c") == [Branch(goto="z")]
    assert branches_of(end, "a") == []


def test_a_broken_condition_does_not_compile() -> None:
    broken = FISHING_V1.replace('answers.river == "wang_chhu"', "answers.river ==")
    with pytest.raises(ExpressionError):
        compile_yaml(broken)


def test_services_folder_compiles(services_catalog: Catalog) -> None:
    service = services_catalog.get("business-registration")
    assert service is not None
    assert service.start == "cid"
    assert service.edit_targets["review"] == (
        "applicant_name",
        "business_name",
        "business_type",
        "activity",
        "location",
        "contact_phone",
    )
    # Instant where the census confirmed who applies, else reviewed by an officer.
    confirmed = _ctx(consent=True, citizen={"name": "Pema Wangmo"})
    assert service.fire(NEXT, "consent", confirmed) == "submit"
    assert service.fire(NEXT, "consent", _ctx(consent=True)) == "submit_review"
    assert service.fire(NEXT, "consent", _ctx(consent=False)) == "declined"
    assert service.fire(NEXT, "business_type", _ctx(business_type="medium")) == "medium_notice"
    assert service.fire(NEXT, "business_type", _ctx(business_type="small")) == "activity"
    assert service.fire(FAIL, "citizen", _ctx()) == "applicant_name"
