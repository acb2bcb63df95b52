"""Capacity model (issue 19, `docs/capacity.md`): per-hop costs measured here, scaled up.

`gateway serve` (1 worker, as `bench/ussd_load.py` starts it: a private redis-server, the
fake census, PostgreSQL) gets full business registrations (9 USSD hops) at a constant
OPERATING rate (`bench/ussd_rate.py`, in this process): CPU per hop of the gateway, Redis
and PostgreSQL, Redis commands and bytes per hop, database rows and bytes a registration;
then Redis bytes a conversation (`conversation_bench`) and PDF ms (`submission_bench`).
Runs at OPERATING and at CHECK_RATE alternate (this machine's speed drifts); each is
counted less the untimed answers it starts with, as whole registrations (`offered`).
The model scales the costs to a country, then checks itself here from the operating
point's costs alone: the server cores at CHECK_RATE (PASS within 20 %), and a floor under
what one worker sustains closed loop (wrk) on the cores other processes leave free (a
saturated worker spends less a hop than at the operating point: the floor says how much).
Run: `python -m bench.capacity` (from the repository); writes var/bench/capacity.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import redis

from bench import conversation_bench, fake_census, servers, submission_bench, ussd_rate
from bench.servers import CODE, PSQL, ROOT, TICK
from bench.ussd_load import wrk

HOPS = ussd_rate.HOPS  # a full business registration: 9 USSD hops
OPERATING = 400.0  # hops/s offered while measuring the costs (a moderate load)
CHECK_RATE = 600.0  # hops/s offered for the check: more, yet short of this machine's limit
SECONDS = float(os.environ.get("BENCH_SECONDS", "8")) / 2  # each run
ROUNDS = 3  # of each rate's runs, interleaved: this machine's speed drifts
SESSIONS = 8 * HOPS  # open at once: one answer each 0.12-0.18 s
UTILISATION = 0.6  # target CPU use at the peak hour: queues stay short, p99 low
CORES = os.cpu_count() or 1
DATABASE = f"gateway_capacity_{os.getpid()}"
PEAK = 0.15  # share of a day's conversations in its busiest hour
RETENTION_DAYS = 30  # a finished conversation is kept (its language alone)
ABANDONED = 0.25  # conversations left half-way, kept open for the 24 h resume window
REPLY_SECONDS = 600  # a USSD hop's reply is kept 10 minutes against redelivery
SHARD_GB = 16.0  # data a Redis shard should hold at most (forks, failover, restarts)
SCENARIOS = {  # conversations a day, and the citizens whose finished ones are kept
    "1 M conversations/day": (1_000_000, 30_000_000),
    "50 M launch day (10 %)": (5_000_000, 50_000_000),
}
COUNT_ROWS = (  # every table's rows, in one statement
    "SELECT table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c"
    " FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint"
    " FROM information_schema.tables WHERE table_schema = 'public'"
)
Sample = dict[str, float]
KEYS = ("check", "predicted", "measured", "error_percent", "other_cores", "verdict")


def psql(sql: str) -> list[list[str]]:
    command = ["psql", *PSQL, "-d", DATABASE, "-At", "-F", "\t", "-c", sql]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def machine_busy() -> int:
    """Ticks every core spent on anything but idling, since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]


def sample(gateway: int, redis_pid: int, census: int, client: redis.Redis) -> Sample:
    """Counters now: CPU ticks by role (PostgreSQL: this database's backends and the server's
    own processes, not other databases' backends), Redis's statistics, the database."""
    stats = cast(dict[str, int], client.info("stats"))
    calls = cast(dict[str, dict[str, int]], client.info("commandstats"))
    activity = "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND"
    activity += " (datname = current_database() OR datname IS NULL)"
    values = {
        "wall": time.monotonic(),
        "busy": machine_busy(),
        "bench": sum(os.times()[:4]) * TICK,  # the generator, psql and wrk (its children)
        "gateway": sum(servers.tree_cpu(gateway).values()),
        "redis": servers.ticks(redis_pid),
        "census": servers.ticks(census),
        "redis_commands": sum(int(v["calls"]) for v in calls.values()),
        "redis_evalsha": int(calls.get("cmdstat_evalsha", {}).get("calls", 0)),
        "redis_bytes_in": int(stats["total_net_input_bytes"]),
        "redis_bytes_out": int(stats["total_net_output_bytes"]),
        "db_bytes": int(psql("SELECT pg_database_size(current_database())")[0][0]),
    }
    values |= {f"pg.{r[0]}": servers.ticks(int(r[0])) for r in psql(activity)}
    return values | {f"rows.{r[0]}": int(r[1]) for r in psql(COUNT_ROWS)}


Run = Callable[[], tuple[float, float]]  # hops, and the seconds they were sent over


def window(pids: tuple[int, int, int, redis.Redis], run: Run) -> Sample:
    """What `run` cost, as counters' differences, and its hops."""
    before = sample(*pids)
    hops, seconds = run()
    time.sleep(0.5)  # the message log's background writes of the last hops
    after = sample(*pids)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if not k.startswith("pg.")}
    delta["postgres"] = sum(v - before.get(k, 0) for k, v in after.items() if k.startswith("pg."))
    ours = sum(delta[k] for k in ("bench", "gateway", "redis", "census", "postgres"))
    return delta | {"hops": hops, "seconds": seconds, "others": delta["busy"] - ours}


def per_hop(d: Sample) -> Sample:
    """Per hop (CPU in ms; rows and bytes a registration: HOPS hops), from pooled windows."""
    costs = {k: d[k] / TICK * 1000 / d["hops"] for k in ("gateway", "redis", "postgres", "census")}
    costs |= {k: d[k] / d["hops"] for k in d if k.startswith("redis_")}
    costs |= {k: v / d["hops"] * HOPS for k, v in d.items() if k.startswith("rows.") and v}
    return costs | {
        "hops_s": d["hops"] / d["seconds"],
        "others_cores": max(0.0, d["others"] / TICK / d["wall"]),
        "rows": sum(v for k, v in d.items() if k.startswith("rows.")) / d["hops"] * HOPS,
        "db_bytes": d["db_bytes"] / d["hops"] * HOPS,
    }


def offered(port: int, path: str, rate: float, seconds: float, run: int) -> dict[str, Any]:
    """`ussd_rate`'s constant-rate load, in this process: its JSON result. It first takes
    citizen i through i mod 9 answers, untimed; then each citizen answers n * HOPS times (the
    timed hops are a multiple of HOPS * SESSIONS), which leaves them where they started: a
    run less one of `seconds` 0 (those first answers alone) is whole registrations."""
    whole = (max(1, round(rate * seconds / (HOPS * SESSIONS))) if seconds else 0) * HOPS * SESSIONS
    args = Namespace(
        host="127.0.0.1", port=port, path=path, code=CODE, rate=rate, seconds=(whole + 0.5) / rate,
        sessions=SESSIONS, connections=64, run=run, drain=10.0, check=True, stagger=True,
    )  # fmt: skip
    result: dict[str, Any] = asyncio.run(ussd_rate.run(args))
    if result["bad"] or result["errors"] or result["non200"]:
        print(f"  {rate:g} hops/s: {result['first_bad']} ({result['bad']} bad replies)")
    return result


def pdf_ms() -> float:
    """The median Latin certificate of `submission_bench.pdf_times`, in ms."""
    with contextlib.redirect_stdout(io.StringIO()):  # its own lines: not this report's
        return submission_bench.pdf_times()["Latin"]


def redis_held(port: int) -> conversation_bench.RedisBytes:
    url = f"redis://127.0.0.1:{port}/2"
    asyncio.run(conversation_bench.measure(url, 50))
    return asyncio.run(conversation_bench.redis_bytes(url, 50, 50))


def size(c: Sample, held: conversation_bench.RedisBytes, pdf: float, day: int, kept: int) -> Sample:
    """What `day` conversations a day need at their peak hour, and what Redis holds."""
    hops = day * PEAK * HOPS / 3600
    registrations = day * PEAK / 3600
    redis_cores = hops * c["redis"] / 1000 / UTILISATION  # one a shard: Redis runs on one
    memory = (
        min(kept, day * RETENTION_DAYS) * held.finished
        + day * ABANDONED * held.open
        + registrations * REPLY_SECONDS * held.reply_bytes
    ) / 1e9
    return {
        "peak hops/s": hops,
        "peak registrations/s": registrations,
        "gateway cores (workers)": hops * c["gateway"] / 1000 / UTILISATION,
        "Redis cores": redis_cores,
        "Redis commands/s": hops * c["redis_commands"],
        "Redis Mbit/s": hops * (c["redis_bytes_in"] + c["redis_bytes_out"]) * 8 / 1e6,
        "Redis GB held": memory,
        "Redis shards": max(math.ceil(redis_cores), math.ceil(memory / SHARD_GB)),
        "PostgreSQL cores": hops * c["postgres"] / 1000 / UTILISATION,
        "PostgreSQL rows/s": registrations * c["rows"],
        "PostgreSQL GB/day": day * c["db_bytes"] / 1e9,
        "PDF cores": registrations * pdf / 1000 / UTILISATION,
        "PDF cores, day's mean": day / 86400 * pdf / 1000 / UTILISATION,  # the queue waits
    }


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="capacity-"))
    if not servers.bench_database(folder, DATABASE).startswith("postgresql"):
        print("no PostgreSQL on 127.0.0.1:5432: the capacity model needs one")
        return 1
    redis_process, redis_port = servers.start_redis()
    census_port = servers.free_port()
    census = fake_census.spawn(census_port)
    env = {
        **os.environ,
        "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
        "GATEWAY_WORKER_IN_PROCESS": "false",
        "GATEWAY_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{DATABASE}",
        "GATEWAY_SERVICES_DIR": str(servers.services_copy(folder, census_port)),
        "GATEWAY_VAR_DIR": str(folder / "var"),
        "GATEWAY_USSD_CODES": json.dumps({CODE: "business-registration"}),
        "PYTHONUNBUFFERED": "1",
    }
    servers.open_to_loopback(env)
    client = redis.Redis(port=redis_port)
    port = servers.free_port()
    command, path, _ = servers.server_command("gateway", port, 1)
    server = servers.start("gateway", command, env, port, 1, folder)
    pids = (server.process.pid, redis_process.pid, census.pid, client)
    load: dict[str, Any] = {}
    checks: list[tuple[str, float, float, float, bool]] = []  # ..., other cores, gates

    def at(rate: float, seconds: float) -> Run:
        def go() -> tuple[float, float]:
            result = offered(port, path, rate, seconds, len(load) + 1)
            load[f"{rate:g}/s {seconds:g} s #{len(load)}"] = result
            return result["hops"], result["hops"] / (result["achieved_rate"] or 1)

        return go

    def closed() -> tuple[float, float]:  # wrk, closed loop, 64 connections
        load["closed"] = result = wrk(port, path, 64, SECONDS, 99, True)
        return result.hops, result.hops / result.rate

    try:
        offered(port, path, OPERATING, 2, 0)  # warm-up
        pooled: dict[float, Sample] = {}  # by rate (0: the untimed first answers alone)
        for _, rate in itertools.product(range(ROUNDS), (0.0, OPERATING, CHECK_RATE)):
            run = at(rate or OPERATING, SECONDS if rate else 0)
            w, was = window(pids, run), pooled.get(rate, {})
            pooled[rate] = {k: v + was.get(k, 0) for k, v in w.items()}
        pooled = {
            rate: {k: v - pooled[0].get(k, 0) for k, v in d.items()} for rate, d in pooled.items()
        }
        c = per_hop(pooled[OPERATING])
        operating = f"{OPERATING:g}/s {SECONDS:g} s"
        ops = [v["client_cpu_ms_per_hop"] for k, v in load.items() if k.startswith(operating)]
        c["generator"] = sum(ops) / len(ops)  # ussd_rate's own figure, at the operating point
        server_ms = c["gateway"] + c["redis"] + c["postgres"]
        w = load["check_costs"] = per_hop(pooled[CHECK_RATE])
        label = f"server cores at {CHECK_RATE:g} hops/s offered"
        measured = w["hops_s"] * (w["gateway"] + w["redis"] + w["postgres"]) / 1000
        checks.append((label, w["hops_s"] * server_ms / 1000, measured, w["others_cores"], True))
        if shutil.which("wrk"):
            wrk_ms = wrk(port, path, 64, 2, 98, True).gen_cpu_ms  # warm-up; wrk's CPU a hop
            w = window(pids, closed)
            saturated = w["gateway"] / TICK * 1000 / w["hops"]  # the gateway's ms a hop
            w = {k: v / TICK / w["wall"] for k, v in w.items()} | {"hops": w["hops"]}  # cores
            free = CORES - w["others"]  # cores that other processes left
            bound = min(1000 / c["gateway"], 1000 * free / (server_ms + c["census"] + wrk_ms))
            label = "closed-loop hops/s, 1 worker (floor)"
            checks.append((label, bound, load["closed"].rate, w["others"], False))
            load["closed_cores"] = w
        held = redis_held(redis_port)
        pdf = pdf_ms()
    finally:
        server.stop()
        for process in (census, redis_process):
            process.terminate()
            process.wait(timeout=5)
        drop = f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
        subprocess.run(["psql", *PSQL, "-c", drop], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"capacity model: commit {commit}, {CORES} cores, load {os.getloadavg()[0]:.2f}")
    print(
        f"costs at {OPERATING:g} hops/s offered ({ROUNDS} runs of {SECONDS:g} s, {c['hops_s']:.0f}"
        f" hops/s served; other processes used {c['others_cores']:.2f} cores meanwhile):"
    )
    for key in ("gateway", "redis", "postgres", "census", "generator"):
        print(f"  {key:10s} CPU {c[key]:7.3f} ms/hop")
    print(
        f"  Redis {c['redis_commands']:.1f} commands/hop ({c['redis_evalsha']:.2f} EVALSHA), "
        f"{c['redis_bytes_in']:.0f} B in + {c['redis_bytes_out']:.0f} B out a hop; one core "
        f"saturates at {1000 / c['redis']:,.0f} hops/s"
    )
    tables = ", ".join(f"{k[5:]} {v:.1f}" for k, v in c.items() if k.startswith("rows."))
    print(
        f"  PostgreSQL a registration: {c['rows']:.1f} rows ({tables}), "
        f"{c['db_bytes'] / 1024:.1f} KiB"
    )
    print(
        f"  Redis held: open {held.open:.0f} B, finished {held.finished:.0f} B, replies "
        f"{held.reply_keys:.0f} keys {held.reply_bytes:.0f} B; PDF {pdf:.1f} ms a certificate"
    )
    sized = {name: size(c, held, pdf, *scenario) for name, scenario in SCENARIOS.items()}
    shard_day = UTILISATION * 1000 / c["redis"] * 3600 / (PEAK * HOPS)
    print(f"\nsizing (peak hour {PEAK:.0%} of the day, {UTILISATION:.0%} CPU at the peak):")
    print(f"{'':24s}" + "".join(f"{name:>24s}" for name in sized))
    for key in sized[next(iter(sized))]:
        print(f"{key:24s}" + "".join(f"{s[key]:24,.2f}" for s in sized.values()))
    print(f"one Redis shard at {UTILISATION:.0%} CPU: {shard_day / 1e6:.1f} M conversations/day")
    print("\ncheck: predicted from the operating point's costs, against this machine")
    print(f"{'':38s} {'predicted':>9s} {'measured':>9s} {'error':>7s} {'others':>6s}")
    verdicts = []
    for label, predicted, measured, others, gates in checks:
        error = (predicted - measured) / measured * 100 if measured else float("nan")
        verdict = ("PASS" if abs(error) <= 20 else "FAIL") if gates else "(floor)"
        values = (label, predicted, measured, error, others, verdict)
        verdicts.append(dict(zip(KEYS, values, strict=True)))
        print(
            f"{label:38s} {predicted:9.2f} {measured:9.2f} {error:+6.1f}% {others:6.2f} {verdict}"
        )
    if "closed" in load:
        print(
            f"others: cores other processes used meanwhile. Saturated, the worker spent "
            f"{saturated:.3f} ms a hop ({saturated / c['gateway'] - 1:+.0%}): the floor's margin"
        )
    report = {"commit": commit, "cores": CORES, "utilisation": UTILISATION, "costs": c,
              "redis_held": vars(held), "pdf_ms": pdf, "sizing": sized,
              "checks": verdicts, "load": load}  # fmt: skip
    out = ROOT / "var" / "bench" / "capacity.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=lambda o: vars(o)))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(v["verdict"] != "FAIL" for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
