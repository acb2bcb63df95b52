"""The draft against the live version, in words: steps added, removed, moved and changed,
a changed step's settings and texts per language, the service's own changes."""

from __future__ import annotations

from dialogs.definition import ServiceDefinition
from dialogs.loader import load_text
from gateway.studio.diff import Placed, TextChange, compare

LIVE = """\
format: 1
id: construction-permit
version: 1
title: Construction permit
languages: [en]
steps:
  - id: cid
    type: national_id
    label: CID
    prompt: Enter your citizenship ID (11 digits)

  - id: purpose
    type: text
    label: Purpose
    prompt: What will you build?

  - id: height
    type: number
    label: Height
    prompt: Height in metres
    min: 1
    max: 20

  - id: done
    type: end
    prompt: Thank you.
"""


def _definition(text: str) -> ServiceDefinition:
    loaded = load_text(text, "construction-permit.yaml")
    assert loaded.definition is not None, loaded.problems
    return loaded.definition


DRAFT = (
    LIVE.replace("version: 1", "version: 2")
    .replace("languages: [en]", "languages: [en, dz]")
    .replace("title: Construction permit", "title: {en: Building permit, dz: བཟོ་སྐྲུན}")
    .replace("    max: 20\n", "    max: 30\n")
    .replace(
        "  - id: height\n",
        "  - id: floors\n    type: number\n    label: Floors\n    prompt: Number of floors\n"
        "    min: 1\n    max: 6\n\n  - id: height\n",
    )
    .replace(
        "  - id: purpose\n    type: text\n    label: Purpose\n    prompt: What will you build?\n\n",
        "",
    )
    .replace(
        "  - id: done\n",
        "  - id: purpose\n    type: text\n    label: Purpose\n    prompt: What do you build?\n\n"
        "  - id: done\n",
    )
    .replace("    prompt: Thank you.\n", "")
    + "    prompt: Thank you, we will call you.\n"
)


def test_steps_added_moved_and_changed_with_their_texts_per_language() -> None:
    found = compare(_definition(DRAFT), _definition(LIVE))
    assert (found.old_version, found.new_version) == (1, 2)
    assert found.languages == (("en",), ("en", "dz"))
    assert found.texts == (
        TextChange("title", "en", "Construction permit", "Building permit"),
        TextChange("title", "dz", None, "བཟོ་སྐྲུན"),
    )
    assert found.added == (Placed("floors", "cid"),)
    assert found.removed == ()
    assert found.moved == (Placed("purpose", "height"),)
    changed = {c.step: c for c in found.changed}
    assert set(changed) == {"height", "purpose", "done"}
    assert changed["height"].settings == ("max",)
    assert changed["height"].texts == ()
    assert changed["purpose"].texts == (
        TextChange("prompt", "en", "What will you build?", "What do you build?"),
    )
    assert changed["purpose"].settings == ()
    sentences = found.sentences()
    assert "Version 1 → 2" in sentences
    assert "Step floors added after cid" in sentences
    assert "Step purpose moved after height" in sentences
    assert "Setting max of step height changed" in sentences
    assert (
        "Prompt of step purpose (en) changed: 'What will you build?' → 'What do you build?'"
        in sentences
    )
    assert "Title of the service (dz) added: 'བཟོ་སྐྲུན'" in sentences


def test_a_removed_step_and_a_changed_option_label() -> None:
    live = LIVE.replace(
        "  - id: done\n",
        "  - id: kind\n    type: choice\n    prompt: Kind\n    options: [House, Shop]\n\n"
        "  - id: done\n",
    )
    draft = live.replace("options: [House, Shop]", "options: [House, Shed]").replace(
        "  - id: height\n    type: number\n    label: Height\n    prompt: Height in metres\n"
        "    min: 1\n    max: 20\n\n",
        "",
    )
    found = compare(_definition(draft), _definition(live))
    assert found.removed == ("height",)
    assert found.moved == ()
    (kind,) = found.changed
    assert kind.step == "kind"
    assert TextChange("options.1.label", "en", "Shop", "Shed") in kind.texts
    assert "Step height removed" in found.sentences()


def test_against_no_live_version_everything_is_added() -> None:
    found = compare(_definition(LIVE), None)
    assert found.old_version is None
    assert found.added == (
        Placed("cid", None),
        Placed("purpose", "cid"),
        Placed("height", "purpose"),
        Placed("done", "height"),
    )
    assert found.sentences()[:2] == [
        "A new service (version 1): nothing is live yet",
        "Step cid added at the start",
    ]


def test_the_same_definition_is_unchanged() -> None:
    found = compare(_definition(LIVE), _definition(LIVE))
    assert found.unchanged
    assert found.sentences() == []
