"""Rasa benchmark (`make bench`): parse latency, and what a Rasa outage costs a citizen.

Against the real Rasa (the services' model, trained once and cached; `make rasa`):
- `/model/parse` latency through `RasaClassifier` (p50/p99), one message at a time;
- Rasa hung (a loopback server that accepts and never answers): the first calls each
  wait the timeout (0.3 s) before the embedded classifier answers, then the breaker opens
  and later calls cost only the embedded classifier; one trial per cooldown;
- Rasa killed while in use: refused connections fall back at once.
Each outage line states what it checks; the process exits 1 when a claim fails.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dialogs.messages import Meaning
from gateway.catalog.repository import load_repository
from nlu.breaker import CircuitBreaker
from nlu.classifier import Classifier
from nlu.embedded import EmbeddedClassifier
from nlu.rasa_client import RasaClassifier
from nlu.rasa_project import export_project
from nlu.rasa_runtime import free_port, serve, train

TIMEOUT = 0.3  # the gateway's default rasa_timeout_seconds
THRESHOLD = 3
PARSES = 300
# Messages of the kind citizens send (written for the bench, not taken from evaluation).
MESSAGES = [
    "I want to open a shop in Thimphu",
    "need a permit to fly my drone over Punakha",
    "bus route licence Paro to Haa",
    "plot in the industrial estate at Jigmeling",
    "what happened to my application",
    "help",
    "cancel",
    "kuzuzangpo",
    "yes",
    "my cid 11512000123 phone 17123456",
]
failed: list[str] = []


def check(claim: str, ok: bool) -> None:
    print(f"  [{'ok' if ok else 'FAILED'}] {claim}")
    if not ok:
        failed.append(claim)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def timed(classifier: Classifier, text: str) -> tuple[Meaning, float]:
    started = time.perf_counter()
    meaning = await classifier.classify(text, "en")
    return meaning, time.perf_counter() - started


async def parse_latency(url: str, embedded: EmbeddedClassifier) -> None:
    rasa = RasaClassifier(url, embedded, timeout=TIMEOUT)
    try:
        for text in MESSAGES:  # warm up: TensorFlow builds its graph on the first calls
            await rasa.classify(text, "en")
        times = []
        for index in range(PARSES):
            _meaning, seconds = await timed(rasa, MESSAGES[index % len(MESSAGES)])
            times.append(seconds)
        embedded_times = [(await timed(embedded, t))[1] for t in MESSAGES * 30]
    finally:
        await rasa.aclose()
    print(f"rasa /model/parse through RasaClassifier, {PARSES} messages one at a time:")
    print(f"  p50 {ms(statistics.median(times))}   p99 {ms(percentile(times, 0.99))}")
    print(f"  embedded classifier alone: p50 {ms(statistics.median(embedded_times))}")
    check(f"all {PARSES} answered by Rasa", rasa.counters.answered == PARSES + len(MESSAGES))
    check(f"p99 within the {TIMEOUT} s timeout", percentile(times, 0.99) < TIMEOUT)


async def hung_rasa(embedded: EmbeddedClassifier) -> None:
    """A server that accepts connections and never answers: the worst outage."""
    hung: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cooldown = 1.0
    rasa = RasaClassifier(
        f"http://127.0.0.1:{port}",
        embedded,
        timeout=TIMEOUT,
        breaker=CircuitBreaker(threshold=THRESHOLD, cooldown=cooldown, name="rasa"),
    )
    try:
        first = [(await timed(rasa, "drone permit in Paro"))[1] for _ in range(THRESHOLD)]
        later = [(await timed(rasa, "drone permit in Paro"))[1] for _ in range(200)]
        # Then a citizen every 50 ms for 2.7 s: the cooldown (1 s, from the opening) ends
        # about 0.95 s in and lets one trial through, which waits 0.3 s and fails; the
        # next ends about 2.3 s in.
        trials = []
        ends = time.monotonic() + 2.7
        while time.monotonic() < ends:
            trials.append((await timed(rasa, "drone permit in Paro"))[1])
            await asyncio.sleep(0.05)
    finally:
        await rasa.aclose()
        for writer in hung:
            writer.close()
        server.close()
    slow = sum(seconds >= TIMEOUT * 0.9 for seconds in trials)
    print(f"rasa hung (accepts, never answers), timeout {TIMEOUT} s, breaker {THRESHOLD} failures:")
    print(f"  first {THRESHOLD} calls: {', '.join(ms(s).strip() for s in first)}")
    print(f"  next 200 calls (breaker open): p50 {ms(statistics.median(later))}", end="")
    print(f"   max {ms(max(later))}")
    print(f"  {len(trials)} calls over 2.7 s with a {cooldown} s cooldown: {slow} waited")
    check(
        f"each of the first {THRESHOLD} costs at most the timeout (+50 ms)",
        all(s < TIMEOUT + 0.05 for s in first),
    )
    check("once open, no call waits for Rasa (max < 10 ms)", max(later) < 0.01)
    check("one trial per cooldown (2 in 2.7 s)", slow == 2)
    check("every answer came from the fallback", rasa.counters.fallbacks == rasa.counters.calls)


async def killed_rasa(url: str, embedded: EmbeddedClassifier, kill: object) -> None:
    rasa = RasaClassifier(url, embedded, timeout=TIMEOUT)
    try:
        before = (await timed(rasa, "drone permit in Paro"))[0].source
        kill()  # type: ignore[operator]
        after = [await timed(rasa, "drone permit in Paro") for _ in range(20)]
    finally:
        await rasa.aclose()
    print("rasa killed while in use:")
    print(f"  answers before: {before}; after: {sorted({m.source for m, _ in after})}")
    print(f"  max {ms(max(s for _, s in after))}, breaker {rasa.breaker.state}")
    check("refused connections fall back at once (< 50 ms)", max(s for _, s in after) < 0.05)
    check("breaker open after the outage", rasa.breaker.state == "open")


def main() -> None:
    catalog = load_repository([Path("services")]).catalog
    embedded = EmbeddedClassifier.from_catalog(catalog)
    with tempfile.TemporaryDirectory() as folder:
        export_project(catalog, Path(folder))
        model = train(Path(folder))
    how = "from the cache" if model.cached else f"trained in {model.seconds:.0f} s"
    print(f"rasa model: {how}")
    asyncio.run(hung_rasa(embedded))
    with serve(model.path, free_port()) as server:
        print(f"rasa server: started in {server.start_seconds:.1f} s")
        asyncio.run(parse_latency(server.url, embedded))

        def kill() -> None:
            server.process.kill()
            server.process.wait()

        asyncio.run(killed_rasa(server.url, embedded, kill))
    if failed:
        print(f"{len(failed)} claim(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
