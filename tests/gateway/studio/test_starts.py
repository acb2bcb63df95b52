"""Where a draft starts: a blank page, each template, a copy of a running service. Each
start is checked as `gateway check` checks a folder: no error, and a copy beside the
service it came from has a prefix of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dialogs.checks import FOLDER_CHECKS
from dialogs.loader import Loaded, SharedList
from dialogs.problems import Problem
from gateway.catalog.repository import load_lists, load_repository
from gateway.studio import starts
from gateway.studio.drafts import Diagnostic, checked

SERVICES = Path(__file__).resolve().parents[3] / "services"


@pytest.fixture(scope="module")
def lists() -> dict[str, SharedList]:
    found, _ = load_lists(SERVICES / "lists")
    return found


def _errors(source: str, service: str, lists: dict[str, SharedList]) -> list[Diagnostic]:
    """What `gateway check` says is wrong with the draft (its own problems: the schema's
    and every check's)."""
    found = checked(source, f"{service}.yaml", lists)
    assert found.loaded.definition is not None, found.diagnostics
    return [d for d in found.diagnostics if d.severity == "error"]


def _beside_running(source: str, service: str, lists: dict[str, SharedList]) -> list[Problem]:
    """What the between-files checks say of the draft in the services folder."""
    draft = checked(source, f"{service}.yaml", lists).loaded
    running: list[Loaded] = load_repository([SERVICES]).loaded
    return [p for check in FOLDER_CHECKS.values() for p in check([*running, draft])]


def test_a_blank_page_passes_the_checker(lists: dict[str, SharedList]) -> None:
    source = starts.blank("noise-complaint", "Noise complaint")
    assert _errors(source, "noise-complaint", lists) == []
    raw = yaml.safe_load(source)
    assert (raw["id"], raw["version"], raw["title"]) == ("noise-complaint", 1, "Noise complaint")
    assert raw["languages"] == ["en"]
    assert [s["type"] for s in raw["steps"]] == ["text", "end"]


@pytest.mark.parametrize("name", starts.TEMPLATES)
def test_each_template_filled_in_passes_the_checker(
    name: str, lists: dict[str, SharedList]
) -> None:
    source = starts.from_template(name, "trade-licence", "Trade licence: new", "TL")
    found = checked(source, "trade-licence.yaml", lists)
    assert found.publishable, found.diagnostics
    assert [d for d in found.diagnostics if d.severity == "error"] == []
    definition = found.loaded.definition
    assert definition is not None
    assert (definition.id, definition.title, definition.version) == (
        "trade-licence",
        "Trade licence: new",
        1,
    )
    assert starts.prefixes(definition) == {"TL"}
    assert [p for p in _beside_running(source, "trade-licence", lists) if p.code != "E361"] == []


def test_templates_keep_their_comments_and_layout() -> None:
    shipped = starts.template_source("permit")
    filled = starts.from_template("permit", "well-permit", "Well permit", "WP", version=3)
    changed = [
        (a, b) for a, b in zip(shipped.splitlines(), filled.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        ("id: permit", "id: well-permit"),
        ("version: 1", "version: 3"),
        ("title: Permit", "title: Well permit"),
        ("    reference_prefix: PM", "    reference_prefix: WP"),
    ]


def test_the_templates_are_listed_from_their_files() -> None:
    listed = {t.name: t for t in starts.templates()}
    assert set(listed) == {"registration", "permit", "information"}
    assert listed["permit"].title == "Permit"
    assert "officer" in listed["permit"].description
    registration = yaml.safe_load(starts.template_source("registration"))
    modes = {s["mode"] for s in registration["steps"] if s["type"] == "submit"}
    assert "instant" in modes  # the certificate issued at once
    permit = yaml.safe_load(starts.template_source("permit"))
    (submit,) = [s for s in permit["steps"] if s["type"] == "submit"]
    assert submit["mode"] == "review"
    assert submit["acknowledgement"]


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(starts.StartError):
        starts.template_source("lottery")


def test_a_copy_gets_its_own_id_title_and_prefix(lists: dict[str, SharedList]) -> None:
    original = (SERVICES / "business-registration.yaml").read_text(encoding="utf-8")
    source = starts.copied(original, "business-registration", "shop-licence", "Shop licence", "SL")
    assert _errors(source, "shop-licence", lists) == []
    definition = checked(source, "shop-licence.yaml", lists).loaded.definition
    assert definition is not None
    assert (definition.id, definition.title, definition.version) == (
        "shop-licence",
        "Shop licence",
        1,
    )
    assert starts.prefixes(definition) == {"SL"}  # both submit steps
    assert _beside_running(source, "shop-licence", lists) == []
    # The rest is the original's text, comments included.
    assert "# Nobody confirmed who applies" in source
    assert source.startswith("# A copy of business-registration")


def test_a_copy_without_its_new_prefix_is_refused_between_files(
    lists: dict[str, SharedList],
) -> None:
    """The check the copy must pass: the same copy keeping BR is told to change it."""
    original = (SERVICES / "business-registration.yaml").read_text(encoding="utf-8")
    source = starts.copied(original, "business-registration", "shop-licence", "Shop", "BR")
    codes = {p.code for p in _beside_running(source, "shop-licence", lists)}
    assert codes == {"E362"}


def test_the_published_source_is_the_file_or_the_definition_written_out(
    lists: dict[str, SharedList],
) -> None:
    service = load_repository([SERVICES]).catalog.get("bus-service-permit")
    assert service is not None
    text = (SERVICES / "bus-service-permit.yaml").read_text(encoding="utf-8")
    assert starts.published_source(service.definition, text, lists) == text
    changed = text.replace("version: 1", "version: 7")
    written = starts.published_source(service.definition, changed, lists)
    assert written != changed
    again = checked(written, "bus-service-permit.yaml", lists).loaded.definition
    assert again == service.definition  # shared lists named again, not spelled out


def test_a_free_prefix_starts_from_the_initials() -> None:
    assert starts.free_prefix("shop-licence", set()) == "SL"
    assert starts.free_prefix("shop-licence", {"SL"}) == "SH"
    assert starts.free_prefix("permit", set()) == "PE"
    assert starts.free_prefix("a-b-c-d-e", set()) == "ABCD"
