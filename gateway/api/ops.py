"""GET /healthz, GET /readyz and GET /metrics, for the orchestrator and Prometheus.

`/healthz` says the process answers; `/readyz` says whether it can do its work: the
session store's Redis, the database, the outbound queue and Rasa (when configured) each
answer within `timeout` (`gateway.api.probes`). 200 with each check's detail, else 503
naming the ones that failed, so a load balancer stops sending citizens to a gateway that
could only tell them to try again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from gateway.api.deps import OptionalRuntimeDep
from gateway.api.errors import ADMIN_ERRORS
from gateway.api.probes import (
    Check,
    Probes,
    database_answers,
    queue_answers,
    rasa_answers,
    rasa_of,
    redis_answers,
    shared_figures,
)
from gateway.ops.metrics import count_unhandled, exposition, record_rasa
from gateway.security.headers import DEFAULT_CSP, SECURITY_HEADERS
from nlu.breaker import State as BreakerState

CHECK_TIMEOUT = 1.0  # seconds: an orchestrator's probe usually gives up after 1 to 5 s


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class CheckReport(BaseModel):
    """One check of `/readyz`; `error` only when it failed, `breaker` only for Rasa."""

    ok: bool
    ms: float  # how long it took, to 0.1 ms
    error: str | None = None
    breaker: BreakerState | None = None  # the Rasa client's circuit breaker

    @classmethod
    def of(cls, check: Check) -> CheckReport:
        return cls(ok=check.ok, ms=round(check.ms, 1), error=check.error or None)


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    failed: list[str]  # the checks that failed, the optional ones left out
    checks: dict[str, CheckReport]


def ops_router(
    *,
    timeout: float = CHECK_TIMEOUT,
    optional: Collection[str] = (),
    metrics_dependencies: Sequence[Any] = (),
) -> APIRouter:
    """/healthz, /readyz and /metrics. A check named in `optional` ("rasa": the embedded
    classifier answers while Rasa is away) is reported but does not make the gateway
    unready; `metrics_dependencies`, the admin token's, make /metrics private."""
    router = APIRouter(tags=["ops"])
    probes = Probes(timeout)

    @router.get("/healthz")
    def healthz() -> Health:
        """Liveness: the process answers."""
        return Health()

    @router.get(
        "/readyz",
        response_class=JSONResponse,
        response_model_exclude_none=True,  # `error` and `breaker` only where they apply
        responses={503: {"model": Readiness, "description": "Some check failed."}},
    )
    async def readyz(runtime: OptionalRuntimeDep, response: Response) -> Readiness:
        """Readiness: Redis, the database, the queue and Rasa (when configured) answer."""
        checks: dict[str, Callable[[], Awaitable[Any]]] = {
            "redis": lambda: redis_answers(runtime),
            "database": lambda: database_answers(runtime),
            "queue": lambda: queue_answers(runtime),
        }
        rasa = rasa_of(runtime)
        if rasa is not None:
            checks["rasa"] = lambda: rasa_answers(rasa, timeout)
        results = await asyncio.gather(*(probes.check(n, make) for n, make in checks.items()))
        detail = {
            name: CheckReport.of(result) for name, result in zip(checks, results, strict=True)
        }
        if rasa is not None:
            detail["rasa"].breaker = rasa.breaker.state
        failed = [
            name
            for name, result in zip(checks, results, strict=True)
            if not result.ok and name not in optional
        ]
        if failed:
            response.status_code = 503
        return Readiness(status="unavailable" if failed else "ok", failed=failed, checks=detail)

    @router.get(
        "/metrics",
        response_class=PlainTextResponse,
        dependencies=list(metrics_dependencies),
        responses=ADMIN_ERRORS if metrics_dependencies else None,
    )
    async def metrics(runtime: OptionalRuntimeDep) -> Response:
        """Prometheus metrics (text format)."""
        rasa = rasa_of(runtime)
        if rasa is not None:
            record_rasa(rasa.stats())
        shared = await shared_figures(runtime, probes)
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
