"""Conversation service benchmark (`make bench`): one citizen answer through Redis.

Measures `Conversations.handle` for full business registrations on the embedded Redis
(a real redis-server on a Unix socket), counts Redis round trips per answer, and compares
with the engine alone on the same answers in the same run. As `gateway serve` runs it: the
inbound limit per citizen and the allowed countries at their defaults, and a census that
confirms each caller (the instant path: its record holds the caller's number). Then
what Redis holds per citizen: an open conversation, a finished one (kept 30 days for its
language), and the replies kept against a provider's redelivery.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dialogs.media import Medium
from dialogs.messages import Inbound, LookupRequest, LookupResult, Submission, SubmissionResult
from gateway.catalog.repository import load_repository
from gateway.conversations.messages import Applicant, Message
from gateway.conversations.service import Conversations
from gateway.lifespan import windows_of
from gateway.security.addresses import Countries
from gateway.settings import Settings
from state.connect import connect
from state.embedded import EmbeddedRedis
from state.store import SessionStore

CENSUS_MOBILE = "+97517123456"  # the engine-only citizen's number, held by the census
DEFAULTS = Settings.model_fields  # the production defaults, not this machine's environment

NOW = datetime(2026, 1, 1)  # the engine has no clock: each message says when it came


def answers(phone: str) -> list[str]:
    """A registration's answers, the citizenship ID "115" + the caller's last 8 digits:
    the census below holds +975 and the ID's last 8 digits as the citizen's mobile."""
    return ["", f"115{phone[-8:]}", "Pema Tshering Shop", "2", "1", "14", "17123456", "1", "1"]


async def lookup(request: LookupRequest) -> LookupResult:
    """The census, as bench/fake_census.py answers: the URL ends with the ID."""
    mobile = "+975" + request.url[-8:]
    return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": mobile})


async def submit(submission: Submission, applicant: Applicant) -> SubmissionResult:
    return SubmissionResult(ok=True, reference="BR-2026-000123", status="issued")


async def measure(url: str, citizens: int) -> tuple[list[int], list[int]]:
    client = connect(url)
    calls = 0
    original = client.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args, **options)

    client.execute_command = counted  # type: ignore[method-assign]
    catalog = load_repository([Path("services")]).catalog
    conversations = Conversations(
        catalog,
        SessionStore(client),
        submit=submit,
        lookup=lookup,
        windows=windows_of(DEFAULTS["inbound_per_address"].default),
        countries=Countries.of(DEFAULTS["allowed_countries"].default),
    )
    times: list[int] = []
    trips: list[int] = []
    for number in range(citizens):
        citizen = f"+975171{number:05d}"
        for index, text in enumerate(answers(citizen)):
            message = Message(
                citizen,
                Medium.USSD,
                text,
                message_id=f"{citizen}:{index}",
                session="S1",
                service="business-registration",
            )
            before = calls
            start = time.perf_counter_ns()
            await conversations.handle(message)
            times.append(time.perf_counter_ns() - start)
            trips.append(calls - before)
    await conversations.store.close()
    return times, trips


async def redis_bytes(url: str, finished: int, open_citizens: int = 100) -> RedisBytes:
    """What Redis holds per citizen (MEMORY USAGE, key and overhead included): after
    `measure`, each of its citizens finished a registration; `open_citizens` more stop
    half-way, at the fifth question."""
    client = connect(url)
    store = SessionStore(client)
    conversations = Conversations(
        load_repository([Path("services")]).catalog, store, submit=submit, lookup=lookup
    )
    for number in range(open_citizens):
        citizen = f"+975172{number:05d}"
        for text in answers(citizen)[:5]:
            await conversations.handle(
                Message(citizen, Medium.USSD, text, session="S2", service="business-registration")
            )

    async def usage(pattern: str) -> tuple[int, int]:
        keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
        return len(keys), sum([await client.memory_usage(key) or 0 for key in keys])

    kept = [(await usage(f"gw:{{+975171{n:05d}}}:s"))[1] for n in range(finished)]
    opened = [(await usage(f"gw:{{+975172{n:05d}}}:s"))[1] for n in range(open_citizens)]
    replies, reply_bytes = await usage("gw:{+975171*}:m:*")
    await store.close()
    return RedisBytes(
        finished=statistics.median(kept),
        open=statistics.median(opened),
        reply_keys=replies / finished,
        reply_bytes=reply_bytes / finished,
    )


@dataclass(frozen=True)
class RedisBytes:
    """Medians per citizen, in bytes; reply keys and their bytes per registration."""

    finished: float
    open: float
    reply_keys: float
    reply_bytes: float


def main(citizens: int = 300) -> None:
    with tempfile.TemporaryDirectory() as folder:
        embedded = EmbeddedRedis(Path(folder) / "redis")
        url = embedded.start()
        try:
            times, trips = asyncio.run(measure(url, citizens))
            held = asyncio.run(redis_bytes(url, citizens))
        finally:
            embedded.stop()
    engine = engine_only(citizens)
    handled = sorted(times)[len(times) // 2] / 1000
    print(f"conversation service on the embedded Redis: {len(times)} answers, {citizens} citizens")
    print(f"handle(), median:        {handled:8.1f} us")
    print(f"handle(), p99:           {sorted(times)[int(len(times) * 0.99)] / 1000:8.1f} us")
    print(f"engine alone, median:    {engine:8.1f} us (same answers, same run)")
    print(f"state + effects cost:    {handled / engine:8.1f}x the engine step")
    print(
        f"Redis round trips per answer: median {statistics.median(trips):.0f}, max {max(trips)}"
        " (budget 2; the first use of each Lua script adds one to load it)"
    )
    print(f"metrics recorded a hop:  {metrics_cost():8.1f} us (Prometheus counters and histogram)")
    print(f"Redis bytes, an open conversation (5th question): {held.open:6.0f} (target <= 2048)")
    print(f"Redis bytes, a finished registration for 30 days: {held.finished:6.0f} (target <= 200)")
    print(
        f"replies kept against redelivery, per registration: {held.reply_keys:.0f} keys,"
        f" {held.reply_bytes:.0f} bytes (for the channel's window, at most 50 h)"
    )


def metrics_cost(rounds: int = 20_000) -> float:
    """What `Conversations.handle` adds to a hop for `/metrics` (the same calls: keep them
    in step with `handle`): a lookup, two increments, an observation and two clock reads
    (about 11 us more in multiprocess mode, where prometheus-client writes each value to
    a memory-mapped file). Median of 5 rounds."""
    from gateway.ops.metrics import hop_metrics

    rounds_us = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            metrics = hop_metrics("ussd")
            metrics.received.inc()
            begun = time.perf_counter()
            metrics.seconds.observe(time.perf_counter() - begun)
            metrics.replied.inc(1)
        rounds_us.append((time.perf_counter() - started) / rounds * 1e6)
    return statistics.median(rounds_us)


def engine_only(citizens: int) -> float:
    from dialogs.driver import run

    catalog = load_repository([Path("services")]).catalog

    def perform(effect: object) -> LookupResult | SubmissionResult:
        if isinstance(effect, LookupRequest):
            return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})
        return SubmissionResult(ok=True, reference="BR-2026-000123", status="issued")

    times = []
    for _ in range(citizens):
        snapshot = None
        for text in answers(CENSUS_MOBILE):
            inbound = Inbound(
                text=text,
                medium=Medium.USSD,
                now=NOW,
                service="business-registration",
                phone=CENSUS_MOBILE,
            )
            start = time.perf_counter_ns()
            outcome = run(catalog, snapshot, inbound, perform)
            times.append(time.perf_counter_ns() - start)
            snapshot = outcome.snapshot
    return sorted(times)[len(times) // 2] / 1000


if __name__ == "__main__":
    main()
