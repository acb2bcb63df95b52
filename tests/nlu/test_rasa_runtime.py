"""Training that fails or hangs: an error with Rasa's own words, never a model in the
cache, never a CI run stalled on a stuck process. A stand-in `rasa` executable plays the
failing installation (the real one is exercised by test_rasa_integration.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from nlu import rasa_runtime
from nlu.rasa_project import PROJECT_FILES
from nlu.rasa_runtime import RasaFailedError, train


def installation(home: Path, script: str) -> None:
    executable = home / "bin" / "rasa"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n" + script)
    executable.chmod(0o755)


def alive(pid: int, seconds: float = 5.0) -> bool:
    """Whether `pid` still exists after `seconds` (a killed orphan is reaped by init)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    for relative in PROJECT_FILES:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(f"# {relative}\n")
    monkeypatch.setenv("GATEWAY_RASA_HOME", str(tmp_path / "rasa"))
    monkeypatch.setenv("GATEWAY_RASA_MODELS", str(tmp_path / "models"))
    return folder


def test_a_failed_training_says_why_and_caches_nothing(project: Path, tmp_path: Path) -> None:
    installation(tmp_path / "rasa", 'echo "InvalidConfigException: no pipeline"; exit 3\n')
    with pytest.raises(RasaFailedError, match="exit 3") as failed:
        train(project)
    assert "InvalidConfigException: no pipeline" in str(failed.value)
    assert list((tmp_path / "models").iterdir()) == []  # the scratch folder is gone too


def test_a_stuck_training_is_stopped_with_its_children(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "pids"
    # The child sleeps in the background like TensorFlow's helpers: it must go too.
    installation(tmp_path / "rasa", f"sleep 60 & echo $! > {pids}; echo training; wait\n")
    monkeypatch.setattr(rasa_runtime, "TRAIN_TIMEOUT", 1.0)
    started = time.monotonic()
    with pytest.raises(RasaFailedError, match="did not finish in 1 s") as failed:
        train(project)
    assert time.monotonic() - started < 20
    assert "training" in str(failed.value)
    child = int(pids.read_text())
    assert not alive(child)
    assert list((tmp_path / "models").iterdir()) == []
