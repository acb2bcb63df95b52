"""Signing in with the government's single sign-on (OpenID Connect, `gateway.console.oidc`).

`/console/sso` sends the person to the provider, keeping the state, nonce and PKCE
verifier in a short-lived signed cookie; the provider sends them back to
`/console/oidc/callback`, where the ID token names them and their roles. Their account
is made on the first sign-in and takes the provider's roles at every sign-in. A person
the provider gives no role of the console is not let in. The provider does its own
second factor: no one-time code is asked after it.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.console.auth import safe_next, sessions_of
from gateway.console.oidc import CALLBACK_PATH, OidcError, Pending
from gateway.console.pages import render
from gateway.console.sessions import PENDING_COOKIE, new_session
from gateway.console.signin import client_of
from gateway.runtime import Runtime
from state.access import AccountError
from state.audit import Action

logger = logging.getLogger(__name__)


def sso_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/console/sso")
    async def begin(request: Request) -> Response:
        runtime = Runtime.of(request.app)
        sessions = sessions_of(request)
        if runtime.oidc is None:
            return _refused(request, "Single sign-on is not set up on this gateway.", 404)
        try:
            url, pending = await runtime.oidc.begin()
        except OidcError as exc:
            return _refused(request, exc.message, 503)
        kept = json.dumps(
            {"p": pending.to_str(), "next": safe_next(request.query_params.get("next"))}
        )
        response = RedirectResponse(url, 303)
        sessions.write_pending(request, response, kept)
        return response

    @router.get(CALLBACK_PATH)
    async def callback(request: Request) -> Response:
        runtime = Runtime.of(request.app)
        sessions = sessions_of(request)
        kept = sessions.read_pending(request)
        client = client_of(request)
        if runtime.oidc is None or kept is None:
            return _refused(request, "This sign-in has expired. Please sign in again.", 400)
        try:
            data = json.loads(kept)
            identity = await runtime.oidc.finish(
                dict(request.query_params), Pending.from_str(str(data["p"]))
            )
        except OidcError as exc:
            await runtime.audit.record(
                "?", Action.SIGN_IN_FAILED, None, {"sso": exc.message}, client
            )
            return _refused(request, exc.message, 401)
        except (ValueError, KeyError, TypeError):
            return _refused(request, "This sign-in has expired. Please sign in again.", 400)
        if not identity.grants:
            await runtime.audit.record(
                identity.email, Action.SIGN_IN_FAILED, identity.email, {"sso": "no role"}, client
            )
            return _refused(request, "Your government account has no role in this console.", 403)
        try:
            account = await runtime.accounts.signed_on(identity.email, identity.grants)
        except AccountError as exc:
            logger.warning("single sign-on refused: %s", exc)
            return _refused(request, "Your account cannot be used here.", 403)
        if account.disabled:
            await runtime.audit.record(
                account.email, Action.SIGN_IN_FAILED, account.email, {"sso": "disabled"}, client
            )
            return _refused(request, "Your account is disabled.", 403)
        await runtime.accounts.record_sign_in(account.id)
        await runtime.audit.record(
            account.email, Action.SIGN_IN, account.email, {"method": "sso"}, client
        )
        response = RedirectResponse(safe_next(str(data.get("next", ""))), 303)
        sessions.write(request, response, new_session(account.id, stage="signed_in", method="oidc"))
        response.delete_cookie(PENDING_COOKIE, path="/console/")
        return response

    return router


def _refused(request: Request, message: str, status: int) -> Response:
    response = render(
        request,
        "error.html",
        {"heading": "Sign-in did not work", "message": message},
        status_code=status,
    )
    response.delete_cookie(PENDING_COOKIE, path="/console/")
    return response
