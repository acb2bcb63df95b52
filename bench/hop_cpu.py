"""Server CPU per USSD hop on a fixed script, for before/after comparisons on a busy machine.

Wall-clock benches need quiet cores; this measures what one hop costs the server instead:
`gateway serve` (one worker, as `make bench` starts it: a private redis-server, the fake
census, PostgreSQL when one answers, SQLite otherwise) gets a fixed number of full
business registrations (9 hops each) over a few keep-alive connections, closed loop.

- default: server CPU ms per hop (utime+stime from /proc), median of `--repeat` runs;
- `--callgrind`: the server runs under `valgrind --tool=callgrind` with instrumentation
  off until the warm-up is done, then the measured hops' instructions (Ir) are dumped:
  instructions per hop, which repeat within 0.3% whatever else runs on the machine;
- `--py-spy FILE`: a py-spy profile (speedscope or flamegraph by extension) of the
  measured hops (needs `py-spy` on PATH or `--py-spy-bin`).

`--hops 8` measures each registration's first 8 hops only: the conversation without the
hop that submits it (`bench.instructions` tells the two apart).

Run: `python -m bench.hop_cpu --citizens 100 [--callgrind] [--target baseline] [--hops N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench import fake_census
from bench.servers import (
    CODE,
    PROBES,
    PSQL,
    ROOT,
    TICK,
    bench_database,
    free_port,
    launch,
    open_to_loopback,
    redis_ping,
    server_command,
    services_copy,
    wait_answering,
)
from bench.ussd_rate import EXPECT, HOPS, answers, mobile, request_bytes

DATABASE = f"gateway_hop_cpu_{os.getpid()}"  # runs side by side do not collide


def user_system(pid: int) -> tuple[int, int]:
    """The process's user and system CPU ticks: the system part is mostly the sockets
    (on loopback a send also runs the receiver's side of TCP)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2 :].split()
    return int(rest[11]), int(rest[12])


def body(run: int, serial: int, hop: int) -> bytes:
    """A hop of a citizen confirmed by the census (the instant path: bench/ussd_rate.py)."""
    number = mobile(run, serial)
    text = "*".join(answers(number)[:hop])
    return (
        f"sessionId=ATUidC_{run}_{serial}&phoneNumber={quote(number)}&networkCode=40201"
        f"&serviceCode={quote(CODE)}&text={quote(text)}"
    ).encode()


async def drive(
    port: int, path: str, run: int, citizens: int, connections: int, check: bool, hops: int = HOPS
) -> int:
    """`citizens` registrations, `connections` at a time, each its first `hops` hops (all
    of them: the last submits); hops sent."""
    bad = 0
    queue = list(range(citizens))

    async def one_connection() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                serial = queue.pop()
                for hop in range(hops):
                    writer.write(request_bytes("127.0.0.1", port, path, body(run, serial, hop)))
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    reply = await reader.readexactly(length) if length else b""
                    if head[9:12] != b"200" or (check and EXPECT[hop].encode() not in reply):
                        bad += 1
                        if bad == 1:
                            print(
                                f"unexpected reply at hop {hop + 1}: {head[:12]!r} {reply[:100]!r}"
                            )
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    if bad:
        print(f"{bad} unexpected replies", file=sys.stderr)
    return citizens * hops


def callgrind_total(out: Path) -> int:
    """Total Ir of the newest dump part."""
    parts = sorted(out.parent.glob(out.name + "*"), key=lambda p: p.stat().st_mtime)
    for line in parts[-1].read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {parts[-1]}")


def measured(
    target: str, *flags: str, server_cpu: str = "", timeout: float = 600, root: Path = ROOT
) -> str:
    """What `python -m bench.hop_cpu --target=<target> <flags>` prints, run in a process
    of its own (for the benches that compare targets); SystemExit when it fails. With
    `server_cpu`, the server runs alone on those cores and everything else off them; with
    `root`, bench and server are that copy of the checkout's (its modules first)."""
    command = [sys.executable, "-m", "bench.hop_cpu", f"--target={target}", *flags]
    if server_cpu:
        rest = sorted(set(range(os.cpu_count() or 1)) - {int(c) for c in server_cpu.split(",")})
        command = ["taskset", "-c", ",".join(map(str, rest)), *command]
        command.append(f"--server-cpu={server_cpu}")
    env = os.environ if root == ROOT else {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise SystemExit(f"bench.hop_cpu failed for {target}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=100, help="measured registrations")
    parser.add_argument("--warmup", type=int, default=30, help="registrations before measuring")
    parser.add_argument(
        "--hops",
        type=int,
        default=HOPS,
        choices=range(1, HOPS + 1),
        metavar=f"1..{HOPS}",
        help=f"measured hops of each registration ({HOPS}: all, the last submits)",
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", choices=["gateway", "baseline"], default="gateway")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--py-spy", dest="pyspy", default="")
    parser.add_argument("--py-spy-bin", dest="pyspy_bin", default="py-spy")
    parser.add_argument("--server-cpu", default="", help="taskset CPU list for the server")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hop-cpu-"))
    database_url = bench_database(folder, DATABASE, sqlite=args.sqlite)  # before any start
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    census_port = free_port()
    census = fake_census.spawn(census_port)
    for _ in range(50):
        if redis_ping(redis_port):
            break
        time.sleep(0.1)
    env = {
        **os.environ,
        "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
        "GATEWAY_WORKER_IN_PROCESS": "false",
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_SERVICES_DIR": str(services_copy(folder, census_port)),
        "GATEWAY_VAR_DIR": str(folder / "var"),
        "GATEWAY_USSD_CODES": json.dumps({CODE: "business-registration"}),
        # The sweeper and the relay run on timers: under valgrind's slowdown they would
        # land on the measured hops many times more often than at full speed.
        "GATEWAY_SWEEP_SECONDS": "3600",
        "GATEWAY_RELAY_SECONDS": "3600",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
    }
    open_to_loopback(env)
    port = free_port()
    command, path, check = server_command(args.target, port, 1)
    out = folder / "callgrind.out"
    if args.callgrind:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            *command,
        ]
    if args.server_cpu:  # alone on its core: nothing else's wake-up preempts it
        command = ["taskset", "-c", args.server_cpu, *command]
    log = folder / "server.log"
    server = launch(command, env, log)
    run = int(time.time()) % 100000
    results: list[float] = []
    try:
        # Under callgrind the server is ~50 times slower: patient requests.
        url = f"http://127.0.0.1:{port}{PROBES[args.target]}"
        wait_answering(server, log, url, 600, request_seconds=5)
        asyncio.run(drive(port, path, run, args.warmup, args.connections, check))
        for repeat in range(1 if args.callgrind else args.repeat):
            run += 1
            spy = None
            if args.callgrind:
                subprocess.run(
                    ["callgrind_control", "-i", "on", str(server.pid)],
                    check=True,
                    capture_output=True,
                )
                subprocess.run(
                    ["callgrind_control", "-z", str(server.pid)], check=True, capture_output=True
                )
            elif args.pyspy and repeat == 0:
                fmt = {".json": "speedscope", ".txt": "raw"}.get(
                    Path(args.pyspy).suffix, "flamegraph"
                )
                spy = subprocess.Popen(
                    [
                        args.pyspy_bin,
                        "record",
                        "-p",
                        str(server.pid),
                        "-o",
                        args.pyspy,
                        "-f",
                        fmt,
                        "-r",
                        "500",
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1.0)
            before = user_system(server.pid)
            hops = asyncio.run(
                drive(port, path, run, args.citizens, args.connections, check, args.hops)
            )
            after = user_system(server.pid)
            user, system = (a - b for a, b in zip(after, before, strict=True))
            used = user + system
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            if args.callgrind:
                time.sleep(0.5)  # the background log writes of the last hops
                subprocess.run(
                    ["callgrind_control", "-d", str(server.pid)], check=True, capture_output=True
                )
                total = callgrind_total(out)
                print(f"{args.target}: {hops} hops, {total / hops / 1e6:.3f} M instructions/hop")
            else:
                ms = used / TICK * 1000 / hops
                results.append(ms)
                print(
                    f"{args.target}: {hops} hops, {ms:.3f} ms CPU/hop "
                    f"({user / TICK * 1000 / hops:.3f} user, "
                    f"{system / TICK * 1000 / hops:.3f} system)",
                    flush=True,
                )
        if results:
            results.sort()
            print(
                f"{args.target}: median {results[len(results) // 2]:.3f} ms CPU/hop "
                f"(min {results[0]:.3f}); load {os.getloadavg()[0]:.2f}"
            )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        census.terminate()
        redis.terminate()
        if "postgresql" in env["GATEWAY_DATABASE_URL"]:
            drop = f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
            subprocess.run(["psql", *PSQL, "-c", drop], capture_output=True)
        census.wait()
        redis.wait()
        errors = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "Traceback" in line or "ERROR" in line
        ]
        if errors:
            print(f"server log: {len(errors)} error lines, e.g. {errors[0][:160]}")
        if not args.callgrind:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"callgrind output in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
