"""The processes that draw PDF documents for a worker: how many, and how each starts.

Apart from `gateway.delivery.worker`: a drawer is spawned (nothing inherited) and imports the module
of its initializer, so from here it loads the renderer and logging, about half the memory
of a process that imports the whole worker.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from gateway.ops.logs import configure_logging

RENDER_NICENESS = 10  # drawing processes yield the CPU to the worker's sends
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # a container's CPU limit (cgroup v2)


def drawer_count(configured: int | None = None) -> int:
    """`configured` (GATEWAY_PDF_PROCESSES), else the cores this process may use: the
    CPUs it may run on, fewer when its cgroup sets a CPU quota (a container's limit; a
    pod's node may have many more cores than its memory limit can hold drawers)."""
    if configured is not None:
        return max(1, configured)
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = CPU_MAX.read_text().split()
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 file (not Linux, cgroup v1): the CPUs it may run on
    return cores


def start_drawer() -> None:
    """A drawing process (spawned: nothing of the worker's set-up is inherited) yields the
    CPU to the sends and logs like the rest, numbers masked."""
    os.nice(RENDER_NICENESS)
    configure_logging()
