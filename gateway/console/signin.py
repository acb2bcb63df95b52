"""Signing in to the console and out of it.

`/console` is the sign-in page (Email, Password, Sign in). Wrong passwords are counted
per account and per client address in Redis, and past either limit sign-in waits, whoever
is right: a guesser learns nothing, and every process agrees. When Redis cannot count,
nobody signs in with a password (it fails closed). Someone who set up one-time codes
gives one next (`/console/sign-in/code`); a code is accepted once.

The sign-in form has its own CSRF token before any session exists (a cookie and a
hidden field that must match), so no other site can sign a browser in to an account
of its choosing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

import pyotp
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console.auth import current, safe_next, sessions_of
from gateway.console.pages import N_, render
from gateway.console.sessions import new_session, secure
from gateway.runtime import Runtime
from gateway.settings import Settings, rates
from state.access import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    Account,
    AccountError,
    normal_email,
)
from state.audit import Action

PRE_CSRF = "console-form"
CODE_WINDOW = 1  # one 30-second step either side: a phone's clock a little off
USED_CODE_PREFIX = "gw:console:totp:"


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def needs_code(account: Account) -> bool:
    return account.totp


def signin_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    per_account = rates(settings.sign_in_failures_per_account)
    per_client = rates(settings.sign_in_failures_per_client)

    def page(
        request: Request, *, error: str = "", email: str = "", status_code: int = 200
    ) -> HTMLResponse:
        token = request.cookies.get(PRE_CSRF) or secrets.token_urlsafe(24)
        response = render(
            request,
            "sign_in.html",
            {
                "error": error,
                "email": email,
                "next": safe_next(request.query_params.get("next")),
                "form_token": token,
                "oidc": settings.oidc_configured,
            },
            status_code=status_code,
        )
        response.set_cookie(
            PRE_CSRF,
            token,
            path="/console",
            secure=secure(request),
            httponly=True,
            samesite="strict",
        )
        return response

    @router.get("", response_class=HTMLResponse)
    async def sign_in_page(request: Request) -> Response:
        found = await current(request)
        if found is not None and found[1].signed_in:
            return RedirectResponse(safe_next(request.query_params.get("next")), 303)
        return page(request)

    @router.post("/sign-in", response_class=HTMLResponse)
    async def sign_in(
        request: Request,
        email: Annotated[str, Form(max_length=MAX_EMAIL_LENGTH)] = "",
        password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
        form_token: Annotated[str, Form(max_length=100)] = "",
        next_path: Annotated[str, Form(alias="next", max_length=500)] = "",
    ) -> Response:
        runtime = Runtime.of(request.app)
        sessions = sessions_of(request)
        expected = request.cookies.get(PRE_CSRF, "")
        if not expected or not hmac.compare_digest(expected.encode(), form_token.encode()):
            return page(
                request, error=N_("The form expired. Please sign in again."), status_code=403
            )
        try:
            who = normal_email(email)
        except AccountError:  # no address at all: counted together, never looked up
            who = ""
        client = client_of(request)
        limiter = runtime.limiter
        for limits, key in ((per_account, who), (per_client, client)):
            verdict = await limiter.allows(limits, "sign-in", key, fail_open=False)
            if not verdict:
                await runtime.audit.record(
                    who or "?", Action.SIGN_IN_FAILED, who, {"why": "throttled"}, client
                )
                minutes = max(1, (verdict.retry_after + 59) // 60)
                return page(
                    request,
                    email=email,
                    error=f"Too many attempts. Try again in {minutes} minutes.",
                    status_code=429,
                )
        account = await runtime.accounts.verify_password(email, password)
        if account is None:
            await limiter.hit(per_account, "sign-in", who, fail_open=False)
            await limiter.hit(per_client, "sign-in", client, fail_open=False)
            await runtime.audit.record(who or "?", Action.SIGN_IN_FAILED, who, None, client)
            return page(request, email=email, error=N_("Wrong email or password."), status_code=401)
        await limiter.clear(per_account, "sign-in", who)
        session = new_session(
            account.id,
            stage="needs_code" if needs_code(account) else "signed_in",
            method="password",
        )
        target = safe_next(next_path)
        if not session.signed_in:
            response = RedirectResponse("/console/sign-in/code?next=" + target, 303)
        else:
            await runtime.accounts.record_sign_in(account.id)
            await runtime.audit.record(account.email, Action.SIGN_IN, account.email, None, client)
            response = RedirectResponse(target, 303)
        sessions.write(request, response, session)
        response.delete_cookie(PRE_CSRF, path="/console")
        return response

    @router.get("/sign-in/code", response_class=HTMLResponse)
    async def code_page(request: Request) -> Response:
        found = await current(request)
        if found is None:
            return RedirectResponse("/console", 303)
        return render(
            request,
            "code.html",
            {"csrf": found[1].csrf, "next": safe_next(request.query_params.get("next"))},
        )

    @router.post("/sign-in/code", response_class=HTMLResponse)
    async def code(
        request: Request,
        code: Annotated[str, Form(max_length=20)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
        next_path: Annotated[str, Form(alias="next", max_length=500)] = "",
    ) -> Response:
        runtime = Runtime.of(request.app)
        sessions = sessions_of(request)
        found = await current(request)
        if found is None or not found[1].csrf_matches(csrf):
            return RedirectResponse("/console", 303)
        account, session = found
        client = client_of(request)
        verdict = await runtime.limiter.allows(
            per_account, "sign-in", account.email, fail_open=False
        )
        secret = await runtime.accounts.totp_secret(account.id)
        given = "".join(ch for ch in code if ch.isdigit())
        right = (
            bool(verdict)
            and secret is not None
            and pyotp.TOTP(secret).verify(given, valid_window=CODE_WINDOW)
            # A code is good once: another use of it within its minute is refused.
            and bool(
                await sessions.redis.set(
                    f"{USED_CODE_PREFIX}{account.id}:{given}", "1", nx=True, ex=120
                )
            )
        )
        if not right:
            await runtime.limiter.hit(per_account, "sign-in", account.email, fail_open=False)
            await runtime.audit.record(
                account.email, Action.SIGN_IN_FAILED, account.email, {"why": "code"}, client
            )
            return render(
                request,
                "code.html",
                {
                    "csrf": session.csrf,
                    "next": safe_next(next_path),
                    "error": N_("That code is not right. Enter the 6 digits your app shows now."),
                },
                status_code=401,
            )
        promoted = sessions.promoted(session)
        await runtime.accounts.record_sign_in(account.id)
        await runtime.audit.record(
            account.email, Action.SIGN_IN, account.email, {"second_factor": "totp"}, client
        )
        response = RedirectResponse(safe_next(next_path), 303)
        sessions.write(request, response, promoted)
        return response

    @router.post("/sign-out")
    async def sign_out(
        request: Request, csrf: Annotated[str, Form(max_length=100)] = ""
    ) -> Response:
        runtime = Runtime.of(request.app)
        sessions = sessions_of(request)
        found = await current(request)
        response = RedirectResponse("/console", 303)
        if found is not None and found[1].csrf_matches(csrf):
            await sessions.end(request, response, found[1])
            await runtime.audit.record(
                found[0].email, Action.SIGN_OUT, found[0].email, None, client_of(request)
            )
        return response

    return router
