"""Console sessions in signed cookies (itsdangerous), with CSRF tokens and sign-out.

The cookie holds the account id, a random session id, the CSRF token, when the session
began and how far sign-in got (a password alone is not enough for someone with one-time
codes). It is signed, not encrypted: it holds nothing secret but its own tokens. It is
re-signed on every page, and a signature older than the idle timeout is refused, so an
unused console signs itself out; a session older than its lifetime ends however used.

Signing is not enough to end a session early: signing out records the session id in
Redis until it would have expired anyway, and an account's `sessions_since` (a new
password, "sign out everywhere") ends every session begun before it.

The cookie is `HttpOnly`, `SameSite=Lax` (the single sign-on's return is a top-level
GET from the provider), and behind TLS `Secure` with the `__Host-` prefix (no subdomain
can set or read it).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Literal

from fastapi import Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from state.store import Client

COOKIE = "console"
SECURE_COOKIE = "__Host-console"
PENDING_COOKIE = "console-sso"  # the single sign-on's state while the person is away
SIGNED_OUT_PREFIX = "gw:console:out:"

Stage = Literal["signed_in", "needs_code"]


@dataclass(frozen=True, slots=True)
class WebSession:
    account_id: int
    sid: str  # random: what signing out records
    csrf: str  # the token every form sends back
    started: float  # Unix time the session began
    stage: Stage = "signed_in"
    method: str = "password"  # or "oidc"

    @property
    def signed_in(self) -> bool:
        return self.stage == "signed_in"

    def csrf_matches(self, given: str) -> bool:
        return hmac.compare_digest(self.csrf.encode(), given.encode())


def new_session(account_id: int, *, stage: Stage, method: str) -> WebSession:
    return WebSession(
        account_id=account_id,
        sid=secrets.token_urlsafe(16),
        csrf=secrets.token_urlsafe(24),
        started=time.time(),
        stage=stage,
        method=method,
    )


def secure(request: Request) -> bool:
    """Behind TLS (the proxy's X-Forwarded-Proto counts when it is trusted)."""
    return request.url.scheme == "https"


class Sessions:
    """Reads and writes console sessions for one secret and one Redis."""

    def __init__(
        self, secret: str, redis: Client, *, idle_seconds: int, lifetime_seconds: int
    ) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="gateway-console-session")
        self.pending_serializer = URLSafeTimedSerializer(secret, salt="gateway-console-sso")
        self.redis = redis
        self.idle_seconds = idle_seconds
        self.lifetime_seconds = lifetime_seconds

    async def read(self, request: Request) -> WebSession | None:
        """The request's session: None when absent, forged, idle too long, too old or
        signed out."""
        token = request.cookies.get(SECURE_COOKIE if secure(request) else COOKIE)
        if not token:
            return None
        try:
            data = self.serializer.loads(token, max_age=self.idle_seconds)
            session = WebSession(**data)
        except (BadSignature, SignatureExpired, TypeError, ValueError):
            return None
        if time.time() - session.started > self.lifetime_seconds:
            return None
        if await self.redis.exists(SIGNED_OUT_PREFIX + session.sid):
            return None
        return session

    def write(self, request: Request, response: Response, session: WebSession) -> None:
        """Set (or refresh: the idle timeout starts again) the session cookie."""
        is_secure = secure(request)
        response.set_cookie(
            SECURE_COOKIE if is_secure else COOKIE,
            self.serializer.dumps(asdict(session)),
            max_age=self.lifetime_seconds,
            path="/",
            secure=is_secure,
            httponly=True,
            samesite="lax",
        )

    async def end(self, request: Request, response: Response, session: WebSession | None) -> None:
        """Sign out: the session id is refused from now on, and the cookie cleared."""
        if session is not None:
            left = int(self.lifetime_seconds - (time.time() - session.started)) + 1
            if left > 0:
                await self.redis.set(SIGNED_OUT_PREFIX + session.sid, "1", ex=left)
        self.clear(request, response)

    def clear(self, request: Request, response: Response) -> None:
        is_secure = secure(request)
        response.delete_cookie(
            SECURE_COOKIE if is_secure else COOKIE,
            path="/",
            secure=is_secure,
            httponly=True,
            samesite="lax",
        )

    def promoted(self, session: WebSession) -> WebSession:
        """The session once the second factor is given: a new id and CSRF token, so
        nothing learnt before it counts after (session fixation)."""
        fresh = new_session(session.account_id, stage="signed_in", method=session.method)
        return replace(fresh, started=session.started)

    # The single sign-on's state, nonce and PKCE verifier while the person is at the
    # provider: signed, short-lived, HttpOnly, and Lax so the return (a top-level GET)
    # carries it.
    def write_pending(self, request: Request, response: Response, pending: str) -> None:
        response.set_cookie(
            PENDING_COOKIE,
            self.pending_serializer.dumps(pending),
            max_age=600,
            path="/console/",
            secure=secure(request),
            httponly=True,
            samesite="lax",
        )

    def read_pending(self, request: Request) -> str | None:
        token = request.cookies.get(PENDING_COOKIE)
        if not token:
            return None
        try:
            value = self.pending_serializer.loads(token, max_age=600)
        except (BadSignature, SignatureExpired):
            return None
        return value if isinstance(value, str) else None
