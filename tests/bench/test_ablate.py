"""The ablations of bench/ablate.py follow the code they edit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bench.ablate import ABLATIONS, Ablation, Edit, applied, stale, table
from bench.servers import ROOT


def test_every_ablation_applies_to_the_code_as_it_is() -> None:
    # A refactoring that moves an edited line must move the ablation with it: otherwise
    # `make bench` would stop at it.
    assert stale(ABLATIONS) == []


def test_an_edit_that_no_longer_matches_is_named(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text("x = 1\nx = 1\n")
    twice = Ablation("twice", "nothing", (Edit("module.py", "x = 1\n", "x = 2\n"),))
    gone = Ablation("gone", "nothing", (Edit("module.py", "y = 1\n", "y = 2\n"),))
    assert stale((twice, gone), tmp_path) == [
        "ablation 'twice': 'x = 1' is found 2 times in module.py, not once",
        "ablation 'gone': 'y = 1' is found 0 times in module.py, not once",
    ]


@pytest.mark.parametrize("ablation", ABLATIONS, ids=[a.name for a in ABLATIONS])
def test_an_ablated_copy_is_still_python_and_the_checkout_is_untouched(
    ablation: Ablation, tmp_path: Path
) -> None:
    before = {edit.path: (ROOT / edit.path).read_text() for edit in ablation.edits}
    copy = applied((ablation,), tmp_path / "copy")
    for edit in ablation.edits:
        text = (copy / edit.path).read_text()
        ast.parse(text)  # the server would start
        assert edit.text not in text or edit.text in edit.replacement
        assert (ROOT / edit.path).read_text() == before[edit.path]
    assert not (copy / ".git").exists()
    assert not (copy / ".venv").exists()


def test_the_table_gives_what_each_saves_against_the_gateway_and_the_baseline() -> None:
    lines = table(1.0, 2.0, {"message log": 1.8, "all of the above": 1.5}).splitlines()
    assert lines[1].split()[-2:] == ["2.000", "2.00"]
    assert lines[2].split()[-4:] == ["1.800", "0.200", "10.0%", "1.80"]
    assert lines[3].split()[-4:] == ["1.500", "0.500", "25.0%", "1.50"]
