"""Instructions per USSD hop, gateway against baseline (`make bench`).

`bench.hop_cpu --callgrind` for each: the server under valgrind's callgrind, the
instructions (Ir) of a fixed script of registrations counted once the warm-up is done.
Deterministic, unlike CPU time: the figures repeat within 0.3% whatever else runs, so a
change of a few percent shows. The target (issue 19): the gateway's hop within 1.4× of
the baseline's (form parse, one Redis GET, one SET on the same server stack).

The gateway's hops are not alike: one in nine submits the registration (a durable write
to the database, its number, the certificate's notifications), which the baseline never
does. A second run measures each registration's first eight hops only, so the report
tells the hops that ask apart from the hop that submits: `9 × all − 8 × asking`.

Run: `python -m bench.instructions` (needs valgrind; about a minute).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from bench.hop_cpu import measured
from bench.servers import ROOT
from bench.ussd_rate import HOPS

TARGET = 1.4
FLAGS = ("--callgrind", "--citizens=40", "--warmup=10")


def instructions(target: str, *extra: str, root: Path = ROOT) -> float:
    """Millions of instructions per hop of `target` (served from the checkout at `root`)."""
    printed = measured(target, *FLAGS, *extra, timeout=900, root=root)
    found = re.search(r"([0-9.]+) M instructions/hop", printed)
    if found is None:
        raise SystemExit(f"no instruction count from bench.hop_cpu:\n{printed}")
    return float(found.group(1))


def main() -> int:
    if shutil.which("valgrind") is None:
        print("instructions per hop not measured: valgrind is missing", file=sys.stderr)
        return 0  # like wrk for the USSD bench: the other benches still report
    gateway, baseline = instructions("gateway"), instructions("baseline")
    asking = instructions("gateway", f"--hops={HOPS - 1}")
    ratio = gateway / baseline
    verdict = "holds" if ratio <= TARGET else "missed"
    print(
        f"USSD hop instructions (callgrind): gateway {gateway:.3f} M, baseline {baseline:.3f} M, "
        f"{ratio:.2f}× (target ≤ {TARGET}×: {verdict})"
    )
    print(split(gateway, asking, baseline))
    return 0


def split(gateway: float, asking: float, baseline: float) -> str:
    """The line that tells a registration's asking hops from the hop that submits it."""
    submitting = HOPS * gateway - (HOPS - 1) * asking
    return (
        f"  of a registration's {HOPS} hops: the {HOPS - 1} that ask {asking:.3f} M each "
        f"({asking / baseline:.2f}×), the one that submits {submitting:.3f} M "
        f"({submitting / baseline:.2f}×; the submission alone {submitting - asking:.3f} M, "
        f"{(submitting - asking) / HOPS:.3f} M a hop on average)"
    )


if __name__ == "__main__":
    sys.exit(main())
