"""Prometheus metrics: the registry, the metric objects and small recording helpers.

Counted where things happen (a hop in `gateway.conversations.service`, a submission in
`gateway.submissions.service`, an outage in `gateway.delivery.outbox`); figures that live elsewhere
(conversations in Redis, the queue's length, retries counted by workers, the Rasa
client's counters) are read when `/metrics` is scraped (`gateway.api.ops`).

Each uvicorn worker (`gateway serve --workers N`) is a process with its own counters.
With `PROMETHEUS_MULTIPROC_DIR` set (an empty directory, writable, emptied before each
start; `gateway serve` makes a temporary one for N > 1) prometheus-client keeps them in
files there and `/metrics` sums every process's; without it each process answers with its
own figures, which is right for one worker.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from state.events import Backlog

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# A USSD screen must come back within the aggregator's budget (a few seconds, of which the
# network takes its share); most hops take a few ms. Buckets from 1 ms to the 5 s limit.
HOP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# The metrics are not registered in prometheus-client's global registry: importing this
# module twice (tests) or beside another library's metrics never collides, and in
# multiprocess mode the values live in files whatever the registry.
REGISTRY = CollectorRegistry()

MESSAGES = Counter(
    "gateway_messages",
    "Citizens' messages handled (in) and replies produced (out), per channel.",
    ["channel", "direction"],
    registry=REGISTRY,
)
HOP_SECONDS = Histogram(
    "gateway_hop_seconds",
    "Time to answer one citizen's message (conversation service: lock, engine, effects, "
    "save), per channel.",
    ["channel"],
    buckets=HOP_BUCKETS,
    registry=REGISTRY,
)
ERRORS = Counter(
    "gateway_errors",
    "Failures handled without a 500: store_unavailable (Redis), citizen_busy (a previous "
    "answer held the lock too long), queue_unavailable, database_unavailable.",
    ["kind"],
    registry=REGISTRY,
)
UNHANDLED = Counter(
    "gateway_unhandled_exceptions",
    "Exceptions that reached the server (a 500), per route template.",
    ["route"],
    registry=REGISTRY,
)
REFUSED = Counter(
    "gateway_refused",
    "Messages and requests refused or held back by a limit: inbound (a citizen's messages "
    "per minute or day), web_client, country (a number outside the allowed countries), "
    "budget_number, budget_range, budget_country, budget_total (outbound parts held "
    "back), codes (verification codes), admin_auth (wrong admin tokens), public_pages.",
    ["limit"],
    registry=REGISTRY,
)
SUBMISSIONS = Counter(
    "gateway_submissions",
    "Applications stored (issued, pending), decided (approved, rejected) or not stored "
    "(failed), per service.",
    ["service", "status"],
    registry=REGISTRY,
)
NLU_ANSWERS = Counter(
    "gateway_nlu_answers",
    "Free-text messages classified, by the classifier that answered (rasa, embedded: "
    "with Rasa configured, embedded answers are Rasa's fallbacks) and whether it "
    "understood anything.",
    ["source", "understood"],
    registry=REGISTRY,
)
# The Rasa client counts for its own process; read at scrape time. In multiprocess mode
# each process's gauge keeps the figures of the last scrape it answered: summed over the
# live processes they are the gateway's, behind by at most a few scrapes.
RASA_CLIENT = Gauge(
    "gateway_rasa_client",
    "The Rasa client's counters since the process started (calls, answered, fallbacks, "
    "failures, timeouts, skipped, breaker_opened), from RasaClassifier.stats().",
    ["stat"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
RASA_BREAKER = Gauge(
    "gateway_rasa_breaker_state",
    "1 for the Rasa circuit breaker's current state (closed, open, half-open).",
    ["state"],
    multiprocess_mode="livemax",
    registry=REGISTRY,
)
BREAKER_STATES = ("closed", "open", "half-open")


@dataclass(frozen=True, slots=True)
class HopMetrics:
    """One channel's children of the hop metrics, looked up once: `labels()` takes a lock
    and hashes its arguments, which a hop need not pay for every message."""

    received: Counter
    replied: Counter
    seconds: Histogram


_hops: dict[str, HopMetrics] = {}


def hop_metrics(channel: str) -> HopMetrics:
    """The hop metrics of `channel` (a handful of channels: created once each)."""
    found = _hops.get(channel)
    if found is None:
        found = HopMetrics(
            MESSAGES.labels(channel, "in"),
            MESSAGES.labels(channel, "out"),
            HOP_SECONDS.labels(channel),
        )
        _hops[channel] = found
    return found


_errors: dict[str, Counter] = {}


def count_error(kind: str) -> None:
    """One more failure of `kind` (a fixed word: see ERRORS)."""
    child = _errors.get(kind)
    if child is None:
        child = _errors[kind] = ERRORS.labels(kind)
    child.inc()


def count_refused(limit: str, amount: int = 1) -> None:
    """`amount` more requests or message parts refused by `limit` (see REFUSED)."""
    REFUSED.labels(limit).inc(amount)


def count_nlu_answer(source: str, understood: bool) -> None:
    NLU_ANSWERS.labels(source or "none", "true" if understood else "false").inc()


def count_submission(service: str, status: str) -> None:
    SUBMISSIONS.labels(service, status).inc()


def count_unhandled(route: str) -> None:
    UNHANDLED.labels(route).inc()


def record_rasa(stats: Mapping[str, Any]) -> None:
    """The Rasa client's `stats()` into its gauges (at scrape time)."""
    for key, value in stats.items():
        if key == "breaker_state":
            for state in BREAKER_STATES:
                RASA_BREAKER.labels(state).set(1.0 if value == state else 0.0)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            RASA_CLIENT.labels(key).set(value)


@dataclass
class Shared:
    """Figures read from Redis at scrape time; None: could not be read (left out, so an
    `absent()` alert sees it rather than a stale number)."""

    active_conversations: int | None = None
    queue_depth: int | None = None
    queue_events: dict[str, int] | None = None  # "retry:deliver": n, "gave_up:notify": n
    events_backlog: Backlog | None = None  # the analytics archive's


class SharedCollector(Collector):
    """Yields the `Shared` figures. They are the same whichever process reads them, so
    this collector sits in the exposition registry in both modes (no per-process files)."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def collect(self) -> Iterable[Metric]:
        shared = self.shared
        if shared.active_conversations is not None:
            yield GaugeMetricFamily(
                "gateway_active_conversations",
                "Conversations in progress (the session store's expiry index).",
                value=shared.active_conversations,
            )
        if shared.queue_depth is not None:
            yield GaugeMetricFamily(
                "gateway_queue_depth",
                "Jobs in the outbound queue (waiting, deferred for a retry, or running).",
                value=shared.queue_depth,
            )
        if shared.events_backlog is not None:
            yield GaugeMetricFamily(
                "gateway_events_unarchived",
                "Conversation events in the Redis stream not archived into the database yet.",
                value=shared.events_backlog.entries,
            )
            yield GaugeMetricFamily(
                "gateway_events_archive_delay_seconds",
                "How long the oldest event not archived yet has waited (0: none waits).",
                value=shared.events_backlog.oldest_seconds,
            )
        if shared.queue_events is not None:
            retries = CounterMetricFamily(
                "gateway_queue_retries",
                "Jobs retried by the workers (counted in Redis by every worker), per job.",
                labels=["job"],
            )
            gave_up = CounterMetricFamily(
                "gateway_queue_gave_up",
                "Jobs given up by the workers after their last try or a refusal, per job.",
                labels=["job"],
            )
            for field, count in sorted(shared.queue_events.items()):
                what, _, job = field.partition(":")
                family = retries if what == "retry" else gave_up if what == "gave_up" else None
                if family is not None:
                    family.add_metric([job], count)
            yield retries
            yield gave_up


def exposition(shared: Shared) -> bytes:
    """The text format of every metric: this process's (or, in multiprocess mode, every
    process's) plus the shared figures."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(SharedCollector(shared))
    return generate_latest(registry)


class _Forward(Collector):
    """Our registry's metrics inside a per-scrape registry (a registry is a collector in
    all but name: prometheus-client types it as one only through `collect`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


if MULTIPROCESS:
    # The process's own figures (memory, CPU, GC) are not kept in files: none in this mode.
    # Its live gauges are dropped from the directory when it exits, so that the `live*`
    # modes count only the processes still running.
    atexit.register(lambda: mark_process_dead(os.getpid()))  # type: ignore[no-untyped-call]
else:
    ProcessCollector(registry=REGISTRY)
    PlatformCollector(registry=REGISTRY)
    GCCollector(registry=REGISTRY)
