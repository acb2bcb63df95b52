"""The gateway against the Rasa peer (`make bench`, issue 19): messages/s in the same run.

The peer (`BENCH_PEER`, else `../shared/bench-peer` beside the checkout) is a Rasa 3.6.21
form bot asking the same business registration, served by `rasa run --enable-api`
(`make rasa`'s installation; its model trained once and cached under `var/bench/`, keyed
by the bot's files). Its `loadgen.py`, a closed-loop client (64 users, whole conversations
one message at a time), drives three targets in turn: `rasa` (REST channel), `gw-ussd`
(the Africa's Talking callback) and `gw-web` (the web chat, opened in free text), each
against one `gateway serve` worker set up as `bench/ussd_load.py` sets it up (private
Redis, fake census, PostgreSQL when one answers). Each target runs twice, alternating, so
that the machine's drift is shared; server CPU per message comes from /proc (the server's
process tree). Target: the gateway >= 10x the peer's messages/s, over USSD and over the
web chat.

The web chat asks a citizen to prove a number by an SMS code before it submits, which
loadgen's web script (older) does not play: `bench.web_peer` runs loadgen with the number
and the code added (11 messages a registration, against the peer's 7), the code taken
from Africa's Talking's API faked in the client. So the web chat's gateway sends SMS: a
`gateway worker` of its own polls every `WEB_POLL_SECONDS`, and the outbound budgets are
raised, as `bench.submission_bench` raises them (all loadgen's numbers fall in one
range). It sends no document link (the chat shows the link; the USSD gateway leaves its
SMS queued), so no certificate is drawn before someone opens one: the peer draws none.
Its CPU is reported apart, per web message, not in the server's; it takes it from the
same cores.

loadgen's citizens have random CIDs and numbers, so no census can hold their number: the
bench's copy of the business registration drops the lookup's `registered_phone` check
(the record alone confirms the applicant; every other step as shipped). A target whose
conversation fails `loadgen.py verify` is not measured, and the run exits 1, as it does when
a run's errors pass `TOLERATED` (see `failed`).
Without the peer, Rasa or redis-server the comparison is skipped, saying why (exit 0).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

from bench import at_messaging, fake_census, servers
from nlu.rasa_project import RASA_VERSION
from nlu.rasa_runtime import RasaUnavailableError, rasa_environment, rasa_executable, serve

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))  # each measured run
CONCURRENCY = 64
ROUNDS = 2
TARGETS = ("rasa", "gw-ussd", "gw-web")
GOAL = 10.0  # gateway messages/s over the peer's
DEADLINE = 360  # seconds for the whole benchmark
ROOT = servers.ROOT  # the checkout
OUT = ROOT / "var" / "bench"
PHONE_CHECK = "    registered_phone: mobile\n"  # in business-registration.yaml's lookup
WEB_POLL_SECONDS = 0.05  # the outbox's poll: how long a code may wait to be sent
# What the web chat's gateway adds: it sends the codes, and its numbers share one range.
WEB_SENDS = {
    "GATEWAY_WORKER_POLL_SECONDS": str(WEB_POLL_SECONDS),
    "GATEWAY_SENDERS": json.dumps({"ussd": "sms/africastalking"}),  # codes, not links
    **at_messaging.SENDING,
}
FIGURES = ("messages", "msg_per_s", "conv_per_s", "p50_ms", "p99_ms", "errors")  # loadgen's
# loadgen draws each conversation's number from a million (+97517xxxxxx): two of its 64
# users holding the same number at once share one session (about one conversation in
# 16,000), and a number whose conversation an earlier run left open is offered to resume
# it (64 more open numbers a run): either breaks a conversation without any fault of the
# server's. Up to one broken conversation in 1,000 messages is the client's; more is not.
TOLERATED = 1 / 1000


@dataclass
class Run:
    target: str
    round: int
    msg_per_s: float
    conv_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server CPU per message (its process tree, /proc utime+stime)
    loadgen_cpu_ms: float  # the client's CPU per message: it shares the cores
    messages: int
    errors: int  # conversations broken by a wrong or missing reply
    sender_cpu_ms: float = 0.0  # the web chat's `gateway worker` per message (the codes)


def failed(runs: list[Run]) -> list[Run]:
    """The runs with more errors than loadgen's own number collisions explain."""
    return [r for r in runs if r.errors > TOLERATED * r.messages]


def trained_model(bot: Path) -> Path:
    """The peer's model, from `var/bench/` unless the bot's files (or Rasa) changed."""
    digest = hashlib.sha256(f"rasa {RASA_VERSION}\0".encode())
    for path in sorted(bot.rglob("*")):
        relative = path.relative_to(bot)
        if path.is_file() and relative.parts[0] not in ("models", ".rasa"):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    model = OUT / f"rasa-peer-{digest.hexdigest()[:16]}.tar.gz"
    if model.is_file():
        print(f"Rasa peer model: {model.relative_to(ROOT)} (cached)")
        return model
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rasa-peer-") as scratch:
        project = Path(scratch) / "bot"
        shutil.copytree(bot, project, ignore=shutil.ignore_patterns("models", ".rasa"))
        command = [str(rasa_executable()), "train", "--fixed-model-name", "bench-form-bot"]
        done = subprocess.run(
            [*command, "--out", str(project / "models")],
            cwd=project,
            env=rasa_environment(),
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        trained = project / "models" / "bench-form-bot.tar.gz"
        if done.returncode or not trained.is_file():
            raise RuntimeError(f"rasa train failed ({done.returncode}): {done.stdout[-1500:]}")
        shutil.copyfile(trained, model.with_suffix(".part"))  # renamed whole: never half
        os.replace(model.with_suffix(".part"), model)
    print(f"Rasa peer model: trained in {time.monotonic() - started:.0f} s")
    return model


def bench_services(folder: Path, census_port: int) -> Path:
    """The services, census on loopback, without the census's check of the number."""
    services = servers.services_copy(folder, census_port)
    path = services / "business-registration.yaml"
    text = path.read_text(encoding="utf-8")
    if PHONE_CHECK not in text:
        raise RuntimeError(f"{PHONE_CHECK.strip()!r} not found in business-registration.yaml")
    path.write_text(text.replace(PHONE_CHECK, ""), encoding="utf-8")
    return services


@dataclass(frozen=True)
class Clients:
    """How each target is driven: by the peer's loadgen.py; the web chat by loadgen
    through `bench.web_peer`, whose fake SMS API listens on `sms_port`."""

    peer: Path
    sms_port: int

    def command(self, mode: str, target: str, url: str) -> list[str]:
        if target == "gw-web":
            module = [sys.executable, "-m", "bench.web_peer", f"--peer={self.peer}"]
            return [*module, f"--sms-port={self.sms_port}", mode, f"--url={url}"]
        python = sys.executable  # with aiohttp: ours, else Rasa's
        if importlib.util.find_spec("aiohttp") is None:
            python = str(rasa_executable().parent / "python")
        return [python, str(self.peer / "loadgen.py"), mode, f"--target={target}", f"--url={url}"]

    def run(self, mode: str, target: str, url: str, *extra: str) -> tuple[int, str]:
        """The client's exit status and output."""
        done = subprocess.run(
            [*self.command(mode, target, url), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SECONDS + 60,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr


@dataclass(frozen=True)
class Served:
    """Where a target answers, the pid of its server, and of the worker sending its SMS."""

    url: str
    pid: int
    sender: int | None = None


def measure(clients: Clients, target: str, at: Served, round_: int) -> Run:
    """One loadgen run against `at`."""
    url, server_pid, sender_pid = at.url, at.pid, at.sender

    def cpu(pid: int | None) -> int:
        return sum(servers.tree_cpu(pid).values()) if pid is not None else 0

    before, sender, client = cpu(server_pid), cpu(sender_pid), os.times()
    extra = (f"-c{CONCURRENCY}", f"-d{SECONDS:g}", f"--label={target}-{round_}")
    _, out = clients.run("load", target, url, *extra)
    used, client_after = cpu(server_pid) - before, os.times()
    sent = cpu(sender_pid) - sender
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{target}: loadgen printed no figures:\n{out[-1500:]}")
    data = json.loads(lines[-1])
    messages = max(1, int(data["messages"]))
    gen = sum(client_after[i] - client[i] for i in (2, 3))  # children's user + system
    cpu_ms, gen_ms = used / servers.TICK * 1000 / messages, gen * 1000 / messages
    sender_ms = sent / servers.TICK * 1000 / messages
    figures = {k: data[k] for k in FIGURES}
    return Run(
        target, round_, cpu_ms=cpu_ms, loadgen_cpu_ms=gen_ms, sender_cpu_ms=sender_ms, **figures
    )


def report(runs: list[Run], broken: list[str]) -> None:
    """The table and the ratios on stdout; the figures in var/bench/peer.json."""
    print(f"\nclosed loop, {CONCURRENCY} users, {SECONDS:g} s a run, {os.cpu_count()} cores")
    print(
        f"{'target':8s} {'round':>5s} {'msg/s':>8s} {'conv/s':>7s} {'p50 ms':>7s} "
        f"{'p99 ms':>8s} {'CPU ms/msg':>10s} {'sender ms':>9s} {'loadgen ms':>10s} "
        f"{'errors':>6s}"
    )
    for r in runs:
        print(
            f"{r.target:8s} {r.round:5d} {r.msg_per_s:8.1f} {r.conv_per_s:7.2f} {r.p50_ms:7.2f} "
            f"{r.p99_ms:8.2f} {r.cpu_ms:10.3f} {r.sender_cpu_ms:9.3f} {r.loadgen_cpu_ms:10.3f} "
            f"{r.errors:6d}"
        )
    of = {t: [r for r in runs if r.target == t] for t in TARGETS}
    peer = of["rasa"]
    ratios: dict[str, dict[str, object]] = {}
    for target, channel in (("gw-ussd", "USSD"), ("gw-web", "web chat")):
        if not of[target] or not peer:
            print(f"  gateway {channel} / Rasa: not measured (said above)")
            continue
        each = [g.msg_per_s / p.msg_per_s for g, p in zip(of[target], peer, strict=True)]
        ratio = sum(r.msg_per_s for r in of[target]) / sum(r.msg_per_s for r in peer)
        cpu = sum(r.cpu_ms for r in peer) / sum(r.cpu_ms for r in of[target])
        rounds = [round(x, 2) for x in each]
        ratios[target] = {"msg_per_s": round(ratio, 2), "rounds": rounds, "cpu": round(cpu, 2)}
        print(
            f"  gateway {channel} / Rasa msg/s: {ratio:.1f}x (rounds "
            f"{', '.join(f'{x:.1f}x' for x in each)}), CPU per message {cpu:.1f}x less; "
            f"target >= {GOAL:g}x: {'met' if ratio >= GOAL else 'MISSED'}"
        )
    print("CPU ms/msg: the server's processes alone (not Redis, the census or PostgreSQL);")
    print("sender ms: the web chat's `gateway worker`, sending the codes.")
    print("loadgen ms: the client's own CPU per message, taken from the same cores.")
    figures: dict[str, object] = {"seconds": SECONDS, "concurrency": CONCURRENCY, "goal": GOAL}
    figures |= {"ratios": ratios, "broken": broken, "runs": [asdict(r) for r in runs]}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "peer.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"figures: {(OUT / 'peer.json').relative_to(ROOT)}")


def stopped(signum: int, frame: FrameType | None) -> None:
    """SIGALRM (past `DEADLINE`), SIGTERM (`timeout`) or SIGINT: out through the finally."""
    late = f" after {DEADLINE} s" if signum == signal.SIGALRM else ""
    raise SystemExit(f"peer benchmark stopped by {signal.Signals(signum).name}{late}")


def main() -> int:
    peer = Path(os.environ.get("BENCH_PEER") or ROOT.parent / "shared" / "bench-peer")
    redis_binary = shutil.which("redis-server")
    try:
        rasa_executable()
    except RasaUnavailableError as error:
        print(f"Rasa peer comparison skipped: {error}")
        return 0
    if not (peer / "loadgen.py").is_file() or not (peer / "rasa-form-bot").is_dir():
        print(f"Rasa peer comparison skipped: no peer at {peer} (set BENCH_PEER)")
        return 0
    if redis_binary is None:
        print("Rasa peer comparison skipped: no redis-server to start")
        return 0
    for signum in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopped)
    signal.alarm(DEADLINE)
    folder = Path(tempfile.mkdtemp(prefix="peer-bench-"))
    helpers: list[subprocess.Popen[bytes]] = []
    gateways: list[servers.Server] = []
    try:
        model = trained_model(peer / "rasa-form-bot")
        redis, redis_port = servers.start_redis(redis_binary)
        helpers.append(redis)
        census_port = servers.free_port()
        helpers.append(fake_census.spawn(census_port))
        env = {
            **os.environ,
            "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
            "GATEWAY_WORKER_IN_PROCESS": "false",
            "GATEWAY_DATABASE_URL": servers.bench_database(folder, "gateway_peer_bench"),
            "GATEWAY_SERVICES_DIR": str(bench_services(folder, census_port)),
            "GATEWAY_VAR_DIR": str(folder / "var"),
            "GATEWAY_WEB_PER_CLIENT": "1000000/minute",  # every user comes from loopback
            "PYTHONUNBUFFERED": "1",
        }
        servers.open_to_loopback(env)
        clients = Clients(peer, servers.free_port())
        web_env = (
            env
            | WEB_SENDS
            | {
                "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/2",  # a queue of its own
                "GATEWAY_AT_SMS_URL": at_messaging.url(clients.sms_port),
            }
        )
        at: dict[str, Served] = {}
        for target, its_env in (("gw-ussd", env), ("gw-web", web_env)):
            logs = folder / target
            logs.mkdir()
            port = servers.free_port()
            command = servers.server_command("gateway", port, 1)[0]
            gateways.append(servers.start("gateway", command, its_env, port, 1, logs))
            sender = None
            if its_env is web_env:  # the codes' sender
                worker = [str(servers.BIN / "gateway"), "worker"]
                helpers.append(servers.launch(worker, web_env, logs / "worker.log"))
                sender = helpers[-1].pid
            at[target] = Served(f"http://127.0.0.1:{port}", gateways[-1].process.pid, sender)
        with serve(model, timeout=120) as rasa:
            load = os.getloadavg()[0]  # others' work on the same cores skews every figure
            print(f"Rasa peer ready in {rasa.start_seconds:.0f} s; load average {load:.2f}")
            at["rasa"] = Served(rasa.url, rasa.process.pid)
            broken = []
            for target in TARGETS:
                status, out = clients.run("verify", target, at[target].url)
                if status:
                    broken.append(target)
                    tail = "\n    ".join(out.splitlines()[-8:])
                    print(f"{target}: the conversation FAILED, not measured:\n    {tail}")
            runs = [
                measure(clients, target, at[target], round_)
                for round_ in range(1, ROUNDS + 1)
                for target in TARGETS
                if target not in broken
            ]
        report(runs, broken)
        for run in failed(runs):
            print(
                f"{run.target} round {run.round}: {run.errors} errors in {run.messages:,} "
                f"messages, over the {TOLERATED:.1%} loadgen's number collisions explain"
            )
        return 1 if broken or failed(runs) else 0
    finally:
        signal.alarm(0)
        for gateway in gateways:
            gateway.stop()
        for process in helpers:
            process.terminate()
            process.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
