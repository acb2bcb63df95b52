"""Constant-rate USSD load: hops sent on a fixed timetable, latency from the timetable.

Debian has no constant-rate HTTP generator (no wrk2, no vegeta), and `wrk` is closed-loop:
a slow reply delays the next request, so its latencies hide queueing (coordinated
omission). Here hop i is due at t0 + i / rate whatever happened before, and its latency
runs from that due time to the end of its reply: a hop that waits for a free connection,
a ready citizen or a busy event loop counts the wait.

`sessions` citizens are open at once, interleaved over `connections` keep-alive
connections: a citizen sends its next answer after every other open citizen has sent one
(at 1,000 hops/s and 500 sessions, one answer every half second). A citizen who finished
the registration is replaced by a new one. Before the clock starts, citizen i is taken
through its first i mod 9 answers (not measured): started together, the citizens would
answer in lockstep, every hop of one second the same step, and the submitting step would
arrive as a burst at the whole offered rate instead of a ninth of it (`--lockstep` keeps
the old start). Plain asyncio streams with prebuilt requests, so the generator stays
light (its CPU time is reported).

Run: `python -m bench.ussd_rate --port 8000 --rate 1000 --seconds 8 --sessions 500`;
prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import deque
from urllib.parse import quote

# The answers of the citizen on +97517123456; each citizen's CID is its own (`answers`).
ANSWERS = ["11517123456", "Pema Tshering Shop", "1", "2", "14", "17123456", "1", "1"]
HOPS = len(ANSWERS) + 1  # a registration: the dial, then one hop an answer; the last submits
# What each hop's reply must contain ("Welcome" shows that the census confirmed the caller:
# otherwise the registration goes on to an officer's review, and no certificate is issued).
EXPECT = [
    "citizenship ID",
    "Welcome Pema Wangmo",
    "Type of business",
    "Main activity",
    "Dzongkhag",
    "Contact mobile",
    "Check your details",
    "I declare",
    "END Registered! Number BR-",
]


RUN_NUMBERS = 50_000  # numbers a run has before they come back
RUNS = 40  # runs before a run's numbers come back (bench/ussd_load.py makes about 30)


def mobile(run: int, serial: int) -> str:
    """Citizen `serial`'s number in run `run`: a valid Bhutanese mobile (+975, 17 or 77,
    6 digits), 50,000 a run, and 40 runs (2 million numbers) before one comes back. A
    number that came back would be a citizen applying again (flagged to officers, refused
    past 3 applications per CID or 5 per number in 30 days) or resuming its unfinished
    session, and one citizen sends at most 30 messages a minute. bench/ussd.lua numbers
    its citizens the same way."""
    index = (run % RUNS) * RUN_NUMBERS + serial % RUN_NUMBERS
    prefix = "17" if index < 1_000_000 else "77"
    return f"+975{prefix}{index % 1_000_000:06d}"


def answers(number: str) -> list[str]:
    """The registration's answers of the citizen on `number`: its CID is "115" + the
    number's last 8 digits, which the fake census (bench/fake_census.py) confirms as its
    mobile: the instant path, certificate and document SMS."""
    return [f"115{number[-8:]}", *ANSWERS[1:]]


class Citizen:
    __slots__ = ("answers", "hop", "number", "session")

    def __init__(self, run: int, serial: int) -> None:
        self.number = mobile(run, serial)
        self.answers = answers(self.number)
        self.session = f"ATUidR_{run}_{serial}"
        self.hop = 0

    def body(self, code: str) -> bytes:
        text = "*".join(self.answers[: self.hop])
        return (
            f"sessionId={self.session}&phoneNumber={quote(self.number)}&networkCode=40201"
            f"&serviceCode={quote(code)}&text={quote(text)}"
        ).encode()


def request_bytes(host: str, port: int, path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length) if length else b""


async def run(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(args.connections):
        connections.put_nowait(await asyncio.open_connection(args.host, args.port))
    serial = 0
    idle: deque[Citizen] = deque()
    for serial in range(args.sessions):
        idle.append(Citizen(args.run, serial))
    ready = asyncio.Event()
    ready.set()

    async def prime(citizen: Citizen, hops: int) -> None:
        for _ in range(hops):
            reader, writer = await connections.get()
            try:
                writer.write(
                    request_bytes(args.host, args.port, args.path, citizen.body(args.code))
                )
                await read_reply(reader)
            finally:
                connections.put_nowait((reader, writer))
            citizen.hop += 1

    primed = 0  # hops answered before the clock starts: the server's CPU window holds them
    if args.stagger:
        primed = sum(i % HOPS for i in range(len(idle)))
        await asyncio.gather(*(prime(c, i % HOPS) for i, c in enumerate(idle)))
    latencies: list[float] = []
    counts = {"non200": 0, "bad": 0, "errors": 0, "waited_for_citizen": 0, "citizens": 0}
    first_bad: list[str] = []

    async def hop(due: float) -> None:
        nonlocal serial
        while not idle:
            counts["waited_for_citizen"] += 1
            ready.clear()
            await ready.wait()
        citizen = idle.popleft()
        reader, writer = await connections.get()
        at = citizen.hop
        try:
            writer.write(request_bytes(args.host, args.port, args.path, citizen.body(args.code)))
            status, body = await read_reply(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            counts["errors"] += 1
            if not first_bad:
                first_bad.append(repr(exc))
            reader, writer = await asyncio.open_connection(args.host, args.port)
            status, body = 0, b""
        latencies.append(loop.time() - due)
        connections.put_nowait((reader, writer))
        if status != 200:
            counts["non200"] += status != 0
        elif args.check and EXPECT[at] and EXPECT[at].encode() not in body:
            counts["bad"] += 1
            if not first_bad:
                first_bad.append(f"hop {at + 1}: {body[:120]!r}")
        citizen.hop = (at + 1) % HOPS
        if citizen.hop == 0:
            counts["citizens"] += 1
            serial += 1
            citizen = Citizen(args.run, args.sessions + serial)
        idle.append(citizen)
        ready.set()

    total = int(args.rate * args.seconds)
    tasks: set[asyncio.Task[None]] = set()
    cpu0 = time.process_time()
    start = loop.time() + 0.05
    sent = 0
    while sent < total:
        now = loop.time()
        while sent < total and start + sent / args.rate <= now:
            task = loop.create_task(hop(start + sent / args.rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        if sent < total:
            await asyncio.sleep(max(0.0, start + sent / args.rate - loop.time()))
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=args.drain)
        for task in pending:
            task.cancel()
        counts["unfinished"] = len(pending)
    elapsed = loop.time() - start
    cpu = time.process_time() - cpu0
    for _, writer in [connections.get_nowait() for _ in range(connections.qsize())]:
        writer.close()
    latencies.sort()

    def pct(fraction: float) -> float:
        if not latencies:
            return float("nan")
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * fraction))] * 1000, 2)

    return {
        "offered_rate": args.rate,
        "hops": len(latencies),
        "primed": primed,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "sessions": args.sessions,
        "connections": args.connections,
        "client_cpu_ms_per_hop": round(cpu * 1000 / max(1, len(latencies)), 3),
        "first_bad": first_bad[0] if first_bad else "",
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--path", default="/channels/ussd/africastalking")
    parser.add_argument("--code", default="*384*1#")
    parser.add_argument("--rate", type=float, default=1000.0, help="hops per second")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--run", type=int, default=1, help="keeps numbers distinct")
    parser.add_argument("--drain", type=float, default=10.0, help="wait for late replies")
    parser.add_argument("--no-check", dest="check", action="store_false")
    parser.add_argument(
        "--lockstep", dest="stagger", action="store_false", help="all citizens start at step 1"
    )
    args = parser.parse_args()
    args.seconds = min(args.seconds, 120.0)  # bounded, whatever is asked
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
