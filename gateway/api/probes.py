"""The checks behind `/readyz` and the shared figures behind `/metrics` (`gateway.api.ops`).

Each asks one part of the running gateway (`gateway.runtime`): the session store's Redis
(`conversations.store`), the database (`submission_store.database`), the outbound queue
(`outbox`) and Rasa (`classifier`, when it is Rasa's client).

A check never makes a request wait longer than `timeout`, and never piles up: a check
still running from an earlier request (a database that hangs) is awaited again rather than
started a second time, and is not cancelled on time-out (a database call cancelled
half-way would leave its connection behind).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import text

from gateway.ops.metrics import Shared
from gateway.runtime import NotStartedError, Runtime
from nlu.rasa_client import RasaClassifier
from state.events import Backlog, backlog
from state.store import EXPIRY_INDEX

logger = logging.getLogger(__name__)

MAX_ERROR = 200  # characters of a failure's description in the answer


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    ms: float
    error: str = ""


class Probes:
    """Runs named checks, at most one of each at a time, each awaited for `timeout`."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._ok: dict[str, bool] = {}

    async def value(self, name: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """What `make()` returns, within the timeout (raises TimeoutError, or what it
        raised)."""
        task = self._running.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(make())
            task.add_done_callback(_retrieve)
            self._running[name] = task
        return await asyncio.wait_for(asyncio.shield(task), self.timeout)

    async def check(self, name: str, make: Callable[[], Awaitable[Any]]) -> Check:
        started = time.perf_counter()
        try:
            answer = await self.value(name, make)
            error = "" if answer is not False else "answered no"
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        result = Check(not error, (time.perf_counter() - started) * 1000, error)
        if self._ok.get(name, True) != result.ok:  # changes only: probes come every few s
            log = logger.info if result.ok else logger.warning
            log("readiness check %s: %s", name, "ok" if result.ok else error)
        self._ok[name] = result.ok
        return result


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a finished check's exception as seen: one that failed after its request had
    stopped waiting would otherwise be reported as never retrieved."""
    if not task.cancelled():
        task.exception()


def _needed(runtime: Runtime | None) -> Runtime:
    if runtime is None:
        raise NotStartedError("the gateway has not started")
    return runtime


async def redis_answers(runtime: Runtime | None) -> bool:
    return bool(await _needed(runtime).conversations.store.ping())


async def database_answers(runtime: Runtime | None) -> bool:
    database = _needed(runtime).submission_store.database
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


async def queue_answers(runtime: Runtime | None) -> bool:
    return bool(await _needed(runtime).outbox.ping())


async def rasa_answers(classifier: RasaClassifier, timeout: float) -> bool:
    """Rasa's server answers its root (`Hello from Rasa`). Asked directly: the client's
    breaker only knows about the last citizens' messages, which may be minutes old."""
    base = classifier.url.removesuffix("/model/parse")
    limit = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=limit) as session, session.get(base + "/") as reply:
        if reply.status >= 400:
            raise RuntimeError(f"HTTP {reply.status}")
    return True


def rasa_of(runtime: Runtime | None) -> RasaClassifier | None:
    classifier = runtime.classifier if runtime is not None else None
    return classifier if isinstance(classifier, RasaClassifier) else None


async def shared_figures(runtime: Runtime | None, probes: Probes) -> Shared:
    """The figures of every process, read from Redis; each one None when unreadable."""
    shared = Shared()

    async def active() -> int:
        return int(await _needed(runtime).conversations.store.client.zcard(EXPIRY_INDEX))

    async def depth() -> int:
        return int(await _needed(runtime).outbox.depth())

    async def events() -> dict[str, int]:
        found: dict[str, int] = await _needed(runtime).outbox.worker_events()
        return found

    async def archive() -> Backlog:
        return await backlog(_needed(runtime).conversations.store.client, time.time())

    results = await asyncio.gather(
        probes.value("metrics:active", active),
        probes.value("metrics:depth", depth),
        probes.value("metrics:jobs", events),
        probes.value("metrics:archive", archive),
        return_exceptions=True,
    )
    answers = [None if isinstance(result, BaseException) else result for result in results]
    (
        shared.active_conversations,
        shared.queue_depth,
        shared.queue_events,
        shared.events_backlog,
    ) = answers
    return shared
