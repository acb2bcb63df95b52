"""GET /readyz and GET /metrics, for the orchestrator and Prometheus.

`/healthz` (in `gateway.app`) says the process answers; `/readyz` says whether it can do
its work: the session store's Redis, the database, the outbound queue and Rasa (when
configured) each answer within `timeout`. 200 with each check's detail, else 503 naming
the ones that failed, so a load balancer stops sending citizens to a gateway that could
only tell them to try again.

Both read the app's `Runtime` (`gateway.runtime`): `conversations` (its
`.store`), `outbox`, `submission_store` (its `.database`) and `classifier`.

A check never makes a request wait longer than `timeout`, and never piles up: a check
still running from an earlier request (a database that hangs) is awaited again rather than
started a second time, and is not cancelled on time-out (a database call cancelled
half-way would leave its connection behind).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from gateway.ops.metrics import Shared, count_unhandled, exposition, record_rasa
from gateway.runtime import NotStartedError, Runtime
from gateway.security.headers import DEFAULT_CSP, SECURITY_HEADERS
from nlu.rasa_client import RasaClassifier
from state.events import Backlog, backlog
from state.store import EXPIRY_INDEX

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 1.0  # seconds: an orchestrator's probe usually gives up after 1 to 5 s
MAX_ERROR = 200  # characters of a failure's description in the answer


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    ms: float
    error: str = ""

    def data(self) -> dict[str, Any]:
        found: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error:
            found["error"] = self.error
        return found


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


def _started(request: Request) -> Runtime | None:
    try:
        return Runtime.of(request.app)
    except NotStartedError:
        return None


def _needed(runtime: Runtime | None) -> Runtime:
    if runtime is None:
        raise NotStartedError("the gateway has not started")
    return runtime


async def _redis(runtime: Runtime | None) -> bool:
    return bool(await _needed(runtime).conversations.store.ping())


async def _database(runtime: Runtime | None) -> bool:
    database = _needed(runtime).submission_store.database
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


async def _queue(runtime: Runtime | None) -> bool:
    return bool(await _needed(runtime).outbox.ping())


async def _rasa(classifier: RasaClassifier, timeout: float) -> bool:
    """Rasa's server answers its root (`Hello from Rasa`). Asked directly: the client's
    breaker only knows about the last citizens' messages, which may be minutes old."""
    base = classifier.url.removesuffix("/model/parse")
    limit = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=limit) as session, session.get(base + "/") as reply:
        if reply.status >= 400:
            raise RuntimeError(f"HTTP {reply.status}")
    return True


def _rasa_of(runtime: Runtime | None) -> RasaClassifier | None:
    classifier = runtime.classifier if runtime is not None else None
    return classifier if isinstance(classifier, RasaClassifier) else None


async def _shared(runtime: Runtime | None, probes: Probes) -> Shared:
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


def ops_router(
    *,
    timeout: float = CHECK_TIMEOUT,
    optional: Collection[str] = (),
    metrics_dependencies: Sequence[Any] = (),
) -> APIRouter:
    """/readyz and /metrics. A check named in `optional` ("rasa": the embedded classifier
    answers while Rasa is away) is reported but does not make the gateway unready;
    `metrics_dependencies` can make /metrics private (the admin token)."""
    router = APIRouter(tags=["ops"])
    probes = Probes(timeout)

    @router.get("/readyz", response_class=JSONResponse)
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: Redis, the database, the queue and Rasa (when configured) answer."""
        runtime = _started(request)
        checks: dict[str, Callable[[], Awaitable[Any]]] = {
            "redis": lambda: _redis(runtime),
            "database": lambda: _database(runtime),
            "queue": lambda: _queue(runtime),
        }
        rasa = _rasa_of(runtime)
        if rasa is not None:
            checks["rasa"] = lambda: _rasa(rasa, timeout)
        results = await asyncio.gather(*(probes.check(n, make) for n, make in checks.items()))
        detail = {name: result.data() for name, result in zip(checks, results, strict=True)}
        if rasa is not None:
            detail["rasa"]["breaker"] = rasa.breaker.state
        failed = [
            name
            for name, result in zip(checks, results, strict=True)
            if not result.ok and name not in optional
        ]
        body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": detail}
        return JSONResponse(body, status_code=503 if failed else 200)

    @router.get(
        "/metrics", response_class=PlainTextResponse, dependencies=list(metrics_dependencies)
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics (text format)."""
        runtime = _started(request)
        rasa = _rasa_of(runtime)
        if rasa is not None:
            record_rasa(rasa.stats())
        shared = await _shared(runtime, probes)
        return Response(exposition(shared), media_type=CONTENT_TYPE_LATEST)

    return router


def count_unhandled_exceptions(app: FastAPI) -> None:
    """Count the exceptions that become a 500, by route template (`/channels/sms/twilio`,
    never the path with its ids). Starlette still logs them and answers a plain 500."""

    async def server_error(request: Request, exc: Exception) -> Response:
        route = request.scope.get("route")
        count_unhandled(getattr(route, "path", "unmatched"))
        # Starlette answers these outside every middleware: the page headers go here.
        headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
        headers["Content-Security-Policy"] = DEFAULT_CSP
        return PlainTextResponse("Internal Server Error", status_code=500, headers=headers)

    app.add_exception_handler(Exception, server_error)
