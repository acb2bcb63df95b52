"""Who may call the API: `require(role)` on each route resolves the caller's `Principal`
from `Authorization: Bearer <secret>` and lets it in only with that role.

Three kinds of caller are accepted:

- a person signed in to the console (its session cookie), so the studio's pages are
  clients of this same API; a request that changes something must then also carry the
  session's CSRF token in `X-CSRF-Token`, which another site cannot read or send;
- a machine's API key (`gateway keys add`, `state.api_keys`): the principal is the key's
  name with the roles it was given (an officer's key may be limited to some services);
- the bootstrap key, `GATEWAY_ADMIN_TOKEN`: every role, so that a fresh install can be
  run before any key or account exists. Better unset once keys are made.

With neither a bootstrap key nor any active API key the API is closed: 403 to everyone.
A missing or wrong secret gets 401 with `WWW-Authenticate: Bearer`; a client that keeps
guessing gets 429 for a while (`GATEWAY_ADMIN_FAILURES_PER_CLIENT`), counted in Redis so
every process agrees. A valid secret without the role gets 403. The scheme is read
case-insensitively (`bearer`, `Bearer`), as HTTP wants.

The role is the route's OAuth-style scope (`Security(..., scopes=[role])`), so the
OpenAPI document lists it in each operation's `security` (OpenAPI 3.1 allows role names
there for any scheme); `document_roles` also writes it in the operation's description.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.params import Security as SecurityParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from limits import RateLimitItem

from gateway.api.deps import OptionalRuntimeDep
from gateway.console.auth import current, sessions_of
from gateway.console.sessions import COOKIE, SECURE_COOKIE
from gateway.ops.metrics import count_refused
from gateway.runtime import Runtime
from gateway.settings import Settings, rates, secret
from state.access import Principal, Role

SCHEME = "bearer"
bearer = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    description="An API key (`gateway keys add`) or the bootstrap key "
    "`GATEWAY_ADMIN_TOKEN`, sent as `Authorization: Bearer <secret>`. The roles an "
    "operation needs are listed as its scopes: any one of them lets the caller in.",
)
BOOTSTRAP = Principal("bootstrap", (), bootstrap=True)
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def settings_of(request: Request) -> Settings:
    """The settings the app was made with (`gateway.app.create_app` keeps them)."""
    found = getattr(request.app.state, "settings", None)
    if not isinstance(found, Settings):
        raise RuntimeError("the app was made without its settings (gateway.app.create_app)")
    return found


@functools.lru_cache(maxsize=8)
def _failure_limits(value: str) -> list[RateLimitItem]:
    return rates(value)


async def principal(
    request: Request,
    response: Response,
    scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    runtime: OptionalRuntimeDep,
) -> Principal:
    """The caller, when its secret is valid and it holds one of the route's roles."""
    settings = settings_of(request)
    token = secret(settings.admin_token)
    given = credentials.credentials if credentials is not None else ""
    keys = runtime.api_keys if runtime is not None else None  # a bare app has no database
    found: Principal | None = None
    # Compared even when `given` is empty: the time taken tells nothing about the token.
    if token is not None and hmac.compare_digest(given.encode(), token.encode()):
        found = BOOTSTRAP
    elif keys is not None and given:
        key = await keys.authenticate(given)
        found = key.principal() if key is not None else None
    if found is None and not given and runtime is not None and runtime.console is not None:
        found = await _person(request, response)
        if found is None and _from_a_console_page(request):
            # A console page whose session ended (idle, signed out, its cookie gone): no
            # guess at a key, so not counted against the office's address, and 401 even
            # where the API is closed to keys; the page says sign in again.
            raise HTTPException(401, "the console session ended: sign in again", headers=CHALLENGE)
    if found is None:
        if token is None and (keys is None or not await keys.any_active()):
            raise HTTPException(
                403, "the API is closed: GATEWAY_ADMIN_TOKEN is not set and no API key exists"
            )
        await _count_failure(request, settings, runtime)
        raise HTTPException(401, "a valid bearer key is required", headers=CHALLENGE)
    wanted = [Role(scope) for scope in scopes.scopes]
    if wanted and not any(holds(found, role) for role in wanted):
        raise HTTPException(403, f"this key does not hold the role {' or '.join(wanted)}")
    return found


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _from_a_console_page(request: Request) -> bool:
    """A session's cookie, or the CSRF header only the console's pages send."""
    cookies = request.cookies
    return bool(
        cookies.get(COOKIE) or cookies.get(SECURE_COOKIE) or "x-csrf-token" in request.headers
    )


async def _person(request: Request, response: Response) -> Principal | None:
    """The person signed in to the console, when the request carries their session (and,
    for a change, its CSRF token: a cookie alone is sent by any site's form)."""
    found = await current(request)
    if found is None or not found[1].signed_in:
        return None
    account, session = found
    if request.method not in SAFE_METHODS:
        given = request.headers.get("x-csrf-token", "")
        if not session.csrf_matches(given):
            raise HTTPException(403, "send the console session's CSRF token in X-CSRF-Token")
    sessions = sessions_of(request)
    sessions.write(request, response, session)  # in use: the idle timeout starts again
    return Principal.of(account)


async def _count_failure(request: Request, settings: Settings, runtime: Runtime | None) -> None:
    """One more failure for this client; 429 once it has failed too often."""
    if runtime is None:  # failures are counted once the gateway runs (it has the limiter)
        return
    client = request.client.host if request.client else "unknown"
    limits = _failure_limits(settings.admin_failures_per_client)
    verdict = await runtime.limiter.hit(limits, "admin-failures", client)
    if not verdict.allowed:
        count_refused("admin_auth")
        raise HTTPException(
            429,
            "too many failed attempts; try again later",
            headers={"Retry-After": str(verdict.retry_after)},
        )


def holds(caller: Principal, role: Role) -> bool:
    """Holds `role` on every service or on some (the route then narrows to those)."""
    services = caller.services(role)
    return services is None or bool(services)


def require(role: Role, *alternatives: Role) -> SecurityParam:
    """A route dependency (`dependencies=[require(Role.X)]`, or a parameter
    `caller: Annotated[Principal, require(Role.X)]`) letting in a caller that holds
    `role` or any of `alternatives`."""
    return SecurityParam(principal, scopes=[role.value, *(r.value for r in alternatives)])


def actor(caller: Principal) -> str:
    """How the audit log names a caller: `bootstrap`, `key:NAME`, or a person's email."""
    return caller.label


def document_roles(app: FastAPI) -> None:
    """Have the OpenAPI document say, for each operation, the roles it needs: one
    `security` requirement per role (alternatives, as OpenAPI reads a list) and
    "Requires role: ..." in its description.

    FastAPI merges the scopes of every `Security` on a route into one requirement, which
    OpenAPI reads as "all of these": hence one requirement per role here, and one
    `require` per route (two would both be needed, and be shown as alternatives)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        for methods in spec.get("paths", {}).values():
            for operation in methods.values():
                roles = [
                    scope
                    for requirement in operation.get("security", [])
                    for scope in requirement.get(SCHEME, [])
                ]
                if not roles:
                    continue
                operation["security"] = [{SCHEME: [role]} for role in roles]
                said = f"Requires role: {' or '.join(roles)}."
                described = operation.get("description", "")
                operation["description"] = f"{described}\n\n{said}" if described else said
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
