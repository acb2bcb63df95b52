"""The servers a bench measures, started and watched the same way by every bench.

`gateway serve` or the baseline app (`server_command`, `start`), a private redis-server
(`start_redis`), a fresh PostgreSQL database or SQLite (`bench_database`), the services
pointed at the fake census (`services_copy`), the callbacks opened to loopback as a
deployment opens them (`open_to_loopback`); and the CPU and memory of their processes,
from /proc (`tree_cpu`, `ticks`, `Server.rss_mb`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CODE = "*384*1#"
TICK = os.sysconf("SC_CLK_TCK")
PSQL = ["-h", "127.0.0.1", "-U", "postgres", "-q"]  # the machine's PostgreSQL, trust auth
PROBES = {"gateway": "/healthz", "baseline": "/docs"}  # answers once the server is up


# ---- Redis -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(binary: str = "redis-server") -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server of the bench's own on a free loopback port, without snapshots: the
    process and its port, once it answers PING (or 5 s later)."""
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if redis_ping(port):
            break
        time.sleep(0.1)
    return process, port


def redis_flush(port: int, db: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
        time.sleep(0.05)
        s.recv(256)


# ---- /proc -----------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, utime+stime ticks, comm) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        table[int(entry)] = (int(rest[1]), int(rest[11]) + int(rest[12]), comm)
    return table


def tree_cpu(root: int) -> dict[int, int]:
    """CPU ticks of `root` and each of its descendants, by pid."""
    table = proc_table()
    pids, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _, _) in table.items():
            if ppid == parent and pid not in pids:
                pids.add(pid)
                frontier.append(pid)
    return {pid: table[pid][1] for pid in pids if pid in table}


def pid_of(comm: str) -> int | None:
    for pid, (_, _, name) in proc_table().items():
        if name == comm:
            return pid
    return None


def postmaster() -> int | None:
    """The PostgreSQL server's root process (its backends are its children), if any."""
    table = proc_table()
    for pid, (ppid, _, name) in table.items():
        if name == "postgres" and table.get(ppid, (0, 0, ""))[2] != "postgres":
            return pid
    return None


def ticks(pid: int) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    rest = raw[raw.rindex(")") + 2 :].split()
    return int(rest[11]) + int(rest[12])


# ---- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    workers: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def rss_mb(self) -> list[float]:
        """Each worker's resident memory, in MB (VmRSS)."""
        return [rss_mb(pid) for pid in self.workers_pids()]

    def workers_pids(self) -> list[int]:
        """The processes that serve requests: the root alone, or its worker children."""
        if self.workers == 1:
            return [self.process.pid]
        table = proc_table()
        return sorted(
            pid
            for pid, (ppid, _, _) in table.items()
            if ppid == self.process.pid and "resource_tracker" not in cmdline(pid)
        )


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def server_command(name: str, port: int, workers: int) -> tuple[list[str], str, bool]:
    """How to start `name` ("gateway" or "baseline"): the command, the USSD path, and
    whether wrk checks the screens (the baseline's are not a registration)."""
    if name == "gateway":
        command = [str(BIN / "gateway"), "serve", f"--port={port}", f"--workers={workers}"]
        return command, "/channels/ussd/africastalking", True
    command = [
        str(BIN / "uvicorn"),
        "bench.baseline_app:app",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
    ]
    return command, "/ussd", False


def launch(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`command` from the checkout, its output in `log`, in a process group of its own (so
    that a stuck server and its workers can be killed together)."""
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start(
    name: str, command: list[str], env: dict[str, str], port: int, workers: int, folder: Path
) -> Server:
    log = folder / f"{name}-{workers}.log"
    process = launch(command, env, log)
    server = Server(name, workers, port, process, log)
    try:
        wait_answering(
            process,
            log,
            f"http://127.0.0.1:{port}{PROBES[name]}",
            60,
            ready=lambda: workers == 1 or len(server.workers_pids()) >= workers,
        )
    except RuntimeError:
        server.stop()
        raise
    time.sleep(0.5 * workers)  # every worker through its start-up
    return server


def wait_answering(
    process: subprocess.Popen[bytes],
    log: Path,
    url: str,
    seconds: float,
    *,
    request_seconds: float = 1.0,
    ready: Callable[[], bool] = lambda: True,
) -> None:
    """Until `url` answers and `ready()` holds; RuntimeError with the log's tail when the
    process exits first or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=request_seconds):
                pass
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:g} s: {log.read_text()[-2000:]}")


def bench_database(folder: Path, name: str = "gateway_bench", *, sqlite: bool = False) -> str:
    """PostgreSQL, as deployed, when one answers on 127.0.0.1:5432 (a fresh database
    `name`); otherwise (or with `sqlite`) SQLite in the run's folder."""
    psql = shutil.which("psql")
    probe = [psql, *PSQL, "-c", "SELECT 1"] if psql and not sqlite else []
    if not probe or subprocess.run(probe, capture_output=True).returncode:
        return f"sqlite:///{folder / 'gateway.db'}"
    drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"  # a crashed run may linger
    for sql in (drop, f"CREATE DATABASE {name}"):
        subprocess.run([probe[0], *PSQL, "-c", sql], check=True, capture_output=True)
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def open_to_loopback(env: dict[str, str]) -> None:
    """The Africa's Talking callbacks opened to the bench's clients on loopback as a
    deployment opens them to its aggregator, by the address allow-list (the cheapest check
    of a USSD hop: no token to find in the query string); never by GATEWAY_DEVELOPMENT,
    whatever this shell says: the benches measure what production runs."""
    env.pop("GATEWAY_USSD_TOKEN", None)
    env.pop("GATEWAY_DEVELOPMENT", None)
    env["GATEWAY_USSD_ALLOWED_IPS"] = json.dumps(["127.0.0.1"])


def services_copy(folder: Path, census_port: int) -> Path:
    target = folder / "services"
    shutil.copytree(ROOT / "services", target)
    for path in target.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"https?://census\.[a-z.]+", f"http://127.0.0.1:{census_port}", text)
        path.write_text(text, encoding="utf-8")
    if f"127.0.0.1:{census_port}" not in (target / "business-registration.yaml").read_text():
        raise RuntimeError("the census lookup URL was not found in business-registration.yaml")
    return target
