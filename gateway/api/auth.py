"""The admin API's bearer token (`GATEWAY_ADMIN_TOKEN`): who may read the message log,
decide applications and publish services.

Unset, the API is closed (403 to everyone). A missing or wrong token gets 401 with
`WWW-Authenticate: Bearer`; a client that keeps guessing gets 429 for a while
(`GATEWAY_ADMIN_FAILURES_PER_CLIENT`), counted in Redis so every process agrees. The
scheme is read case-insensitively (`bearer`, `Bearer`), as HTTP wants.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.params import Depends as Dependency
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.api.deps import OptionalRuntimeDep
from gateway.ops.metrics import count_refused
from gateway.settings import Settings, rates, secret

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="admin token",
    description="`GATEWAY_ADMIN_TOKEN`, sent as `Authorization: Bearer <token>`.",
)


def admin_auth(settings: Settings) -> list[Dependency]:
    """Route dependencies that demand the admin bearer token (a router's or a route's
    `dependencies=`: handlers have no use for its value)."""
    failures = rates(settings.admin_failures_per_client)

    async def authorised(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        runtime: OptionalRuntimeDep,
    ) -> None:
        token = secret(settings.admin_token)
        if token is None:
            raise HTTPException(403, "the admin API is closed: GATEWAY_ADMIN_TOKEN is not set")
        # Failures are counted once the gateway runs (a bare app in tests has no limiter).
        limiter = runtime.limiter if runtime is not None else None
        client = request.client.host if request.client else "unknown"
        given = credentials.credentials if credentials is not None else ""
        if hmac.compare_digest(given.encode(), token.encode()):
            return
        if limiter is not None:
            verdict = await limiter.hit(failures, "admin-failures", client)
            if not verdict.allowed:
                count_refused("admin_auth")
                raise HTTPException(
                    429,
                    "too many failed attempts; try again later",
                    headers={"Retry-After": str(verdict.retry_after)},
                )
        raise HTTPException(
            401, "a valid admin bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )

    return [Depends(authorised)]
