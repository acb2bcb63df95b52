"""What each guarantee costs a USSD hop: instructions with it taken out (callgrind).

`bench.hop_profile` says where a hop's CPU goes by component; this says what the hop
would save without each thing the gateway does beyond the bare hop, so a target that
is missed can be weighed against what meeting it would give up. Each ablation is a few
edits applied to a copy of the checkout (never to the checkout itself), whose server is
then measured as `bench.instructions` measures it (`bench.hop_cpu --callgrind`, the same
script of registrations, deterministic within 0.3%). An edit that no longer matches its
file stops the run, naming it: the ablations follow the code or fail loudly.

The ablated gateway is not a product: each edit removes a protection (see `gives_up`).
Run: `python -m bench.ablate [--only NAME ...]` (needs valgrind; about 30 s an ablation).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.instructions import instructions
from bench.servers import ROOT

COPIED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "var", "__pycache__", ".*_cache", "*.egg-info"
)


@dataclass(frozen=True)
class Edit:
    path: str  # relative to the checkout
    text: str  # found exactly once
    replacement: str


@dataclass(frozen=True)
class Ablation:
    name: str
    gives_up: str
    edits: tuple[Edit, ...]


SERVICE = "gateway/conversations/service.py"
ABLATIONS: tuple[Ablation, ...] = (
    Ablation(
        "message log",
        "the record of every message in and out (officers' and citizens' history, audits)",
        (
            Edit(
                "gateway/api/channels.py",
                "        response.background = BackgroundTask(\n"
                "            record_messages, runtime.messages, webhook.name, message, replies, "
                "status\n        )\n",
                "        del status\n",
            ),
        ),
    ),
    Ablation(
        "Redis call deadlines",
        "a frozen Redis answered by a polite 'try later' within 2 s, not a hung hop",
        (
            Edit("state/store.py", "import asyncio\n", "import asyncio\nimport contextlib\n"),
            Edit(
                "state/store.py",
                "async with asyncio.timeout(CALL_TIMEOUT):",
                "async with contextlib.nullcontext():",
            ),
        ),
    ),
    Ablation(
        "redelivery dedupe",
        "a retried or replayed hop answered from its stored reply, never run twice",
        (
            Edit(SERVICE, "                message.message_id,\n", "                None,\n"),
            Edit(SERVICE, "message_id=message.message_id,", "message_id=None,"),
        ),
    ),
    Ablation(
        "per-citizen limits",
        "the message windows that stop a flood from one number",
        (Edit(SERVICE, "windows = self.windows\n", "windows = ()\n"),),
    ),
    Ablation(
        "event stream",
        "the conversation events behind analytics and the funnel",
        (Edit(SERVICE, "events=events,", "events=[],"),),
    ),
    Ablation(
        "metrics",
        "the Prometheus counters and latency histogram of every hop",
        (
            Edit(SERVICE, "        metrics.received.inc()\n", ""),
            Edit(
                SERVICE,
                "        metrics.seconds.observe(time.perf_counter() - started)\n"
                "        metrics.replied.inc(len(replies))\n",
                "",
            ),
        ),
    ),
    Ablation(
        "security headers",
        "CSP, HSTS, nosniff and frame denial on every response",
        (Edit("gateway/app.py", "    app.add_middleware(SecurityHeaders)\n", ""),),
    ),
    Ablation(
        "database pre-ping",
        "a connection PostgreSQL dropped (restart, failover) found before a submission uses it",
        (Edit("state/database.py", '"pool_pre_ping": True', '"pool_pre_ping": False'),),
    ),
)


def stale(ablations: tuple[Ablation, ...], root: Path = ROOT) -> list[str]:
    """What keeps `ablations` from applying to the code at `root`: each edit whose text
    is not found exactly once in its file, said in a line."""
    problems = []
    for ablation in ablations:
        for edit in ablation.edits:
            found = (root / edit.path).read_text(encoding="utf-8").count(edit.text)
            if found != 1:
                problems.append(
                    f"ablation {ablation.name!r}: {edit.text.strip()!r} is found {found} "
                    f"times in {edit.path}, not once"
                )
    return problems


def applied(ablations: tuple[Ablation, ...], into: Path) -> Path:
    """A copy of the checkout at `into` with `ablations`' edits; SystemExit naming each
    edit that does not match its file exactly once."""
    problems = stale(ablations)
    if problems:
        raise SystemExit("the ablations no longer apply:\n" + "\n".join(problems))
    shutil.copytree(ROOT, into, ignore=COPIED, symlinks=True)
    for ablation in ablations:
        for edit in ablation.edits:
            path = into / edit.path
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(edit.text, edit.replacement), encoding="utf-8")
    return into


def table(baseline: float, gateway: float, without: dict[str, float]) -> str:
    """Each ablation's hop and what it saves, against the gateway and the baseline."""
    lines = [
        f"{'without':24s} {'M/hop':>7s} {'saved M':>8s} {'saved':>6s} {'× baseline':>10s}",
        f"{'(the gateway as it is)':24s} {gateway:7.3f} {'':8s} {'':6s} {gateway / baseline:10.2f}",
    ]
    for name, value in without.items():
        saved = gateway - value
        lines.append(
            f"{name:24s} {value:7.3f} {saved:8.3f} {saved / gateway:6.1%} {value / baseline:10.2f}"
        )
    lines.append(f"{'(the baseline)':24s} {baseline:7.3f} {'':8s} {'':6s} {1:10.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [ablation.name for ablation in ABLATIONS]
    parser.add_argument("--only", nargs="+", choices=names, default=names, metavar="NAME")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("ablations not measured: valgrind is missing", file=sys.stderr)
        return 0  # as bench.instructions: the other benches still report
    chosen = tuple(ablation for ablation in ABLATIONS if ablation.name in args.only)
    folder = Path(tempfile.mkdtemp(prefix="ablate-"))
    try:
        unchanged = applied((), folder / "as-is")
        baseline = instructions("baseline", root=unchanged)
        gateway = instructions("gateway", root=unchanged)
        without: dict[str, float] = {}
        for ablation in chosen:
            tree = applied((ablation,), folder / f"without-{len(without)}")
            without[ablation.name] = instructions("gateway", root=tree)
            print(f"without {ablation.name}: {without[ablation.name]:.3f} M/hop", flush=True)
        if len(chosen) > 1:
            without["all of the above"] = instructions(
                "gateway", root=applied(chosen, folder / "without-all")
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("USSD hop instructions (callgrind) with each guarantee taken out:")
    print(table(baseline, gateway, without))
    for ablation in chosen:
        print(f"  {ablation.name}: gives up {ablation.gives_up}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
