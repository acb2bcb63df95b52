"""A small services folder of our own, so gateway tests do not depend on the shipped ones;
and a Redis server of a test's own for the tests that ask for `redis_url` (those of
`security/` get theirs from `security/conftest.py`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.embedded import EmbeddedRedis
from tests.gateway.processes import running
from tests.state import missing

ROOT = Path(__file__).resolve().parents[2]

GREETING = """\
format: 1
id: greeting
version: 2
title: Say hello
steps:
  - id: name
    type: text
    prompt: What is your name?
    max_length: 30
  - id: district
    type: choice
    prompt: Your dzongkhag?
    options_from: dzongkhags
  - id: bye
    type: end
    prompt: "Kuzuzangpo {{ answers.name }} of {{ labels.district }}!"
"""

GREETING_TESTS = """\
service: greeting
cases:
  - name: says hello
    channels: [ussd, sms]
    steps:
      - screen_contains: What is your name?
      - send: Pema
        screen_contains: Your dzongkhag?
      - send: "14"
        screen: Kuzuzangpo Pema of Thimphu!
        ended: true
    answers: {name: Pema, district: thimphu}
"""


@pytest.fixture
def services_dir(tmp_path: Path) -> Path:
    """A services folder holding `greeting` and its tests, with the shipped shared lists."""
    folder = tmp_path / "services"
    shutil.copytree(ROOT / "services" / "lists", folder / "lists")
    (folder / "greeting.yaml").write_text(GREETING, encoding="utf-8")
    (folder / "greeting.tests.yaml").write_text(GREETING_TESTS, encoding="utf-8")
    return folder


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own (the shared one belongs to other tests): the
    embedded Redis under the test's temporary folder."""
    with running(EmbeddedRedis(tmp_path / "redis")) as url:
        yield url


@pytest.fixture
def graphviz() -> None:
    """Graphviz's `dot`, which `make test` installs: a test that draws pictures fails
    (never skips) without it."""
    if shutil.which("dot") is None:
        missing("graphviz's `dot` (apt-get install graphviz)")
