"""The studio's committed script is the bundle of its sources: `make studio-js` run again
into a temporary folder gives the same bytes (esbuild's output is deterministic). And
every text the script says is in the template that translates it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.browser import ROOT
from tests.state import missing

STUDIO = ROOT / "gateway" / "console" / "static" / "studio"
TEXTS = ROOT / "gateway" / "console" / "templates" / "studio_texts.html"
SAID = re.compile(r'\bt\("((?:[^"\\]|\\.)*)"')


@pytest.mark.integration  # runs node
def test_the_committed_bundle_is_the_build_of_its_sources(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        missing("node and esbuild (`make axe`, which runs `npm ci` at the repository root)")
    assert node is not None
    subprocess.run(
        [node, str(STUDIO / "src" / "build.mjs"), str(tmp_path)],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    built = (tmp_path / "studio.js").read_bytes()
    committed = (STUDIO / "studio.js").read_bytes()
    assert built == committed, "static/studio/studio.js is out of date: run `make studio-js`"


def test_every_text_of_the_script_is_translated_by_the_page() -> None:
    template = TEXTS.read_text(encoding="utf-8")
    said = {
        json.loads(f'"{match}"')
        for source in (STUDIO / "src").glob("*.js")
        for match in SAID.findall(source.read_text(encoding="utf-8"))
    }
    assert said
    missing_texts = sorted(
        text for text in said if f'_("{text}")' not in template.replace('\\"', '"')
    )
    assert not missing_texts, f"add to studio_texts.html: {missing_texts}"
