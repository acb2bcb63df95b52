"""Reading a services folder: definitions checked, valid ones compiled and published."""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway.catalog.repository import definition_files, folder_digest, load_repository
from gateway.catalog.repository import test_files as find_test_files


def test_valid_services_are_published(services_dir: Path) -> None:
    repository = load_repository([services_dir])
    assert repository.problems == []
    greeting = repository.service("greeting")
    assert greeting is not None
    assert greeting.version == 2
    assert greeting.order == ("name", "district", "bye")


def test_tests_and_lists_are_not_definitions(services_dir: Path) -> None:
    assert [p.name for p in definition_files([services_dir])] == ["greeting.yaml"]
    assert [p.name for p in find_test_files([services_dir])] == ["greeting.tests.yaml"]


def test_a_broken_definition_is_reported_and_not_published(services_dir: Path) -> None:
    (services_dir / "zz.yaml").write_text(
        "format: 1\nid: zz\nversion: 1\ntitle: Z\nsteps:\n  - id: a\n    type: choice\n"
        "    prompt: Pick\n    options_from: nowhere\n  - id: b\n    type: end\n    prompt: x\n",
        encoding="utf-8",
    )
    repository = load_repository([services_dir])
    assert next((p.code, p.line) for p in repository.problems if p.severity == "error") == (
        "E006",
        9,
    )
    assert repository.service("zz") is None
    assert repository.service("greeting") is not None


def test_the_folder_digest_follows_definitions_and_lists_only(
    services_dir: Path, tmp_path: Path
) -> None:

    copy = tmp_path / "copy"
    shutil.copytree(services_dir, copy)
    first = folder_digest([services_dir])
    assert first == folder_digest([copy]) == load_repository([copy]).digest
    (copy / "greeting.tests.yaml").write_text("# a test changed\n", encoding="utf-8")
    assert folder_digest([copy]) == first  # tests are not published
    lists = sorted((copy / "lists").glob("*.yaml"))
    assert lists, "the fixture folder has a shared list"
    lists[0].write_text(lists[0].read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert folder_digest([copy]) != first
