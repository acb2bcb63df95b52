"""Where a USSD hop's CPU goes, component by component, against the baseline's.

`bench.hop_cpu` measures the server CPU of a fixed script of registrations with py-spy
sampling the server (500 samples a second, idle time left out); each sample is charged
to the component of the innermost frame that decides one (`COMPONENTS`: a Redis call
made by the session store is the store's, a database call made by the message log is the
log's), and the component's share of the samples times the measured CPU per hop gives
its microseconds per hop. The same for the baseline (`bench/baseline_app.py`), so each
component's cost reads against what the bare hop pays for the same layer.

Sampling, not tracing: a component under ~2% of a hop moves by about a point between
runs. Run: `python -m bench.hop_profile [--citizens 1500]` (needs py-spy, in `.[dev]`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.hop_cpu import measured

# (component, pattern on a frame "function (file:line)"), the first that matches a frame
# wins, frames read from the innermost out. A frame that matches none (the standard
# library, asyncio, pydantic, SQLAlchemy, asyncpg, aiohttp) is charged to its caller's.
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("metrics (Prometheus)", r"prometheus_client/"),
    ("message log", r"record_messages|MessageLog\.|entry_values|_storable|record_reports"),
    ("submission (database, reference, queue)", r"gateway/submissions/|state/submissions|arq/"),
    ("session store (Redis client, 2 scripts)", r"redis/|hiredis|state/store\.py|state/redis_"),
    ("census lookup (HTTP client)", r"gateway/conversations/lookups"),
    ("conversation engine", r"dialogs/"),
    ("conversation service", r"gateway/conversations/|gateway/runtime"),
    ("limits and security headers", r"gateway/security/"),
    ("provider adapter and routing", r"gateway/providers/|gateway/api/channels|baseline_app"),
    ("web framework (FastAPI, Starlette)", r"fastapi/|starlette/"),
    ("HTTP server (uvicorn, httptools)", r"uvicorn/|httptools"),
)
# SQLAlchemy runs its statements in a greenlet, whose stack starts there: a sample under it
# names no caller (the submission's statements, by the call counts). Only such a stack,
# with no deciding frame at all, is the driver's.
DRIVER = ("database driver (SQLAlchemy, asyncpg)", re.compile(r"sqlalchemy/|asyncpg/"))
LOOP = "event loop (uvloop: sockets, timers, tasks)"
OTHER = "other"
_PATTERNS = [(name, re.compile(pattern)) for name, pattern in COMPONENTS]


@dataclass(frozen=True)
class Profile:
    target: str
    ms_per_hop: float
    samples: int
    shares: dict[str, float]  # component -> share of the samples

    def us(self, component: str) -> float:
        return self.shares.get(component, 0.0) * self.ms_per_hop * 1000


def component(stack: list[str]) -> str:
    """The component a sample's stack (outermost frame first) is charged to."""
    for frame in reversed(stack):
        for name, pattern in _PATTERNS:
            if pattern.search(frame):
                return name
    if any(DRIVER[1].search(frame) for frame in stack):
        return DRIVER[0]
    if any("asyncio/" in frame or "uvloop" in frame for frame in stack):
        return LOOP  # uvloop is C: its own time shows as the frame that runs the loop
    return OTHER


def attribute(raw: Path) -> tuple[int, dict[str, float]]:
    """The samples of py-spy's raw output (`frame;frame;... count` lines) by component:
    their number, and each component's share."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = stack.split(";")
        if any("threading.py" in frame for frame in frames[:3]):
            continue  # a helper thread (anyio's, for blocking calls): not the hop's loop
        counts[component(frames)] += int(number)
    total = sum(counts.values())
    return total, {name: n / total for name, n in counts.items()} if total else {}


def profiled(target: str, citizens: int, folder: Path, py_spy: str) -> Profile:
    raw = folder / f"{target}.txt"
    flags = ["--repeat=1", f"--citizens={citizens}", f"--py-spy={raw}", f"--py-spy-bin={py_spy}"]
    # The server alone on the last core, the rest (load, Redis) elsewhere: py-spy counts
    # a runnable thread as busy, so a server preempted by Redis's wake-up inside a send()
    # would charge the wait to the Redis client (14% of the samples, against 4% pinned;
    # the CPU per hop is the same either way).
    cores = os.cpu_count() or 1
    printed = measured(target, *flags, server_cpu=str(cores - 1) if cores > 1 else "")
    found = re.search(r"median ([0-9.]+) ms CPU/hop", printed)
    if found is None or not raw.exists():
        raise SystemExit(f"no CPU per hop or no profile from bench.hop_cpu:\n{printed}")
    samples, shares = attribute(raw)
    return Profile(target, float(found.group(1)), samples, shares)


def table(gateway: Profile, baseline: Profile) -> str:
    names = [name for name, _ in COMPONENTS] + [DRIVER[0], LOOP, OTHER]
    names.sort(key=gateway.us, reverse=True)
    lines = [
        f"{'component':44s} {'gateway µs':>10s} {'share':>6s} {'baseline µs':>11s} {'extra µs':>9s}"
    ]
    for name in names:
        if gateway.us(name) < 0.5 and baseline.us(name) < 0.5:
            continue
        mine, bare = gateway.us(name), baseline.us(name)
        share = gateway.shares.get(name, 0.0)
        lines.append(f"{name:44s} {mine:10.1f} {share:6.1%} {bare:11.1f} {mine - bare:9.1f}")
    mine, bare = gateway.ms_per_hop * 1000, baseline.ms_per_hop * 1000
    lines.append(f"{'a hop (server CPU)':44s} {mine:10.1f} {'':6s} {bare:11.1f} {mine - bare:9.1f}")
    lines.append(
        f"samples: gateway {gateway.samples:,}, baseline {baseline.samples:,}; "
        f"gateway/baseline CPU per hop {gateway.ms_per_hop / baseline.ms_per_hop:.2f}×"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=1500)
    parser.add_argument(
        "--py-spy-bin", dest="py_spy", default=str(Path(sys.executable).parent / "py-spy")
    )
    args = parser.parse_args()
    if shutil.which(args.py_spy) is None:
        print(f"hop profile skipped: {args.py_spy} not found (pip install py-spy)", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="hop-profile-"))
    try:
        gateway = profiled("gateway", args.citizens, folder, args.py_spy)
        baseline = profiled("baseline", args.citizens, folder, args.py_spy)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("USSD hop, server CPU by component (py-spy samples × measured CPU per hop):")
    print(table(gateway, baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
