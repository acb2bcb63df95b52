"""How many PDF-drawing processes a worker starts: the setting, else the cores it may use,
a container's CPU quota included (cgroup v2's cpu.max, written here as the kernel does)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.documents import drawers
from gateway.documents.drawers import drawer_count


@pytest.fixture
def cpu_max(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cpu.max"
    monkeypatch.setattr(drawers, "CPU_MAX", path)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))  # a big node
    return path


def test_the_setting_decides_when_given(cpu_max: Path) -> None:
    cpu_max.write_text("max 100000\n")
    assert drawer_count(2) == 2


@pytest.mark.parametrize(
    ("content", "count"),
    [
        ("max 100000\n", 16),  # no CPU limit: every core of the node
        ("200000 100000\n", 2),  # limits.cpu: 2
        ("150000 100000\n", 2),  # 1.5 cores: two processes, each niced below the sends
        ("50000 100000\n", 1),  # half a core: one
        ("not a quota\n", 16),
    ],
)
def test_a_containers_cpu_quota_bounds_the_count(cpu_max: Path, content: str, count: int) -> None:
    cpu_max.write_text(content)
    assert drawer_count() == count


def test_without_cgroup_v2_the_cpus_it_may_run_on(cpu_max: Path) -> None:
    assert not cpu_max.exists()
    assert drawer_count() == 16
