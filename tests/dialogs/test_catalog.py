"""The catalog: published services, older versions kept for conversations in flight."""

from __future__ import annotations

from dataclasses import replace

from dialogs.catalog import LANGUAGE_NAMES, Catalog
from tests.dialogs.helpers import FISHING_V1, FISHING_V2, PET_LICENCE, compile_yaml


def test_publish_keeps_older_versions() -> None:
    v1, v2 = compile_yaml(FISHING_V1), compile_yaml(FISHING_V2)
    first = Catalog.of([v1])
    second = first.publish(v2)
    assert second.get("fishing-permit") is v2
    assert second.get("fishing-permit", 1) is v1
    assert second.get("fishing-permit", 2) is v2
    assert second.published == {"fishing-permit": 2}
    # the first catalog is unchanged
    assert first.get("fishing-permit") is v1
    assert first.get("fishing-permit", 2) is None


def test_release_drops_an_old_version_only() -> None:
    v1, v2 = compile_yaml(FISHING_V1), compile_yaml(FISHING_V2)
    catalog = Catalog.of([v1, v2])
    released = catalog.release("fishing-permit", 1)
    assert released.get("fishing-permit", 1) is None
    assert released.get("fishing-permit") is v2
    assert catalog.get("fishing-permit", 1) is v1  # not mutated
    # the published version is never released
    assert catalog.release("fishing-permit", 2).get("fishing-permit", 2) is v2
    assert catalog.release("unknown", 1).published == catalog.published


def test_keep_loads_a_version_without_publishing_it() -> None:
    v1, v2 = compile_yaml(FISHING_V1), compile_yaml(FISHING_V2)
    catalog = Catalog.of([v2])
    kept = catalog.keep(v1)
    assert kept.get("fishing-permit", 1) is v1
    assert kept.published == {"fishing-permit": 2}
    assert [s.version for s in kept.menu()] == [2]
    assert catalog.get("fishing-permit", 1) is None  # not mutated
    assert kept.keep(compile_yaml(FISHING_V1)).get("fishing-permit", 1) is v1  # first stays


def test_latest_is_the_published_version_else_the_highest_loaded() -> None:
    v1, v2 = compile_yaml(FISHING_V1), compile_yaml(FISHING_V2)
    catalog = Catalog.of([v1]).keep(v2)  # v2 loaded for a pinned conversation only
    assert catalog.latest("fishing-permit") is v1
    withdrawn = replace(catalog, published={})
    assert withdrawn.latest("fishing-permit") is v2
    assert (
        withdrawn.release("fishing-permit", 1).release("fishing-permit", 2).latest("fishing-permit")
        is None
    )
    assert Catalog().latest("fishing-permit") is None


def test_get_unknown() -> None:
    catalog = Catalog.of([compile_yaml(PET_LICENCE)])
    assert catalog.get("nothing") is None
    assert catalog.get("pet-licence", 9) is None
    assert Catalog().get("pet-licence") is None


def test_menu_and_languages() -> None:
    pet, fishing = compile_yaml(PET_LICENCE), compile_yaml(FISHING_V1)
    catalog = Catalog.of([pet, fishing])
    assert [s.id for s in catalog.menu()] == ["fishing-permit", "pet-licence"]
    assert catalog.languages() == ["en", "dz"]
    assert Catalog.of([pet]).languages() == ["en"]
    assert Catalog().menu() == []
    assert Catalog().languages() == []
    assert LANGUAGE_NAMES["dz"] == "རྫོང་ཁ"
    assert LANGUAGE_NAMES["en"] == "English"


def test_menu_shows_only_the_published_version() -> None:
    catalog = Catalog.of([compile_yaml(FISHING_V1), compile_yaml(FISHING_V2)])
    assert [(s.id, s.version) for s in catalog.menu()] == [("fishing-permit", 2)]
