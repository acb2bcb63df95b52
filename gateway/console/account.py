"""A person's own account page: their roles, and one-time codes (TOTP, RFC 6238).

Setting codes up shows a secret (as a QR code for an authenticator app, and as text to
type) kept in Redis for ten minutes under the session, never in the cookie; it is saved
to the account only once a code made from it is given back, so nobody locks themselves
out with a secret their app never took. Turning codes off also asks for a code.
"""

from __future__ import annotations

import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console.applications import menu_of
from gateway.console.auth import SignedDep, form_of, sessions_of
from gateway.console.pages import N_, render
from gateway.console.signin import CODE_WINDOW, client_of
from gateway.documents.qr import qr_code
from gateway.runtime import Runtime
from state.audit import Action

PENDING_TOTP = "gw:console:totp-setup:"
ISSUER = "Government services console"
NOTICES = {
    "on": N_("One-time codes are on: you will be asked for one after your password."),
    "off": N_("One-time codes are off."),
}


def account_router() -> APIRouter:
    router = APIRouter(prefix="/console/account", include_in_schema=False)

    async def page(
        request: Request, person: SignedDep, *, error: str = "", status: int = 200
    ) -> Response:
        sessions = sessions_of(request)
        pending = await sessions.redis.get(PENDING_TOTP + person.session.sid)
        setup = None
        if pending is not None and not person.account.totp:
            secret = pending.decode() if isinstance(pending, bytes) else str(pending)
            uri = pyotp.TOTP(secret).provisioning_uri(name=person.account.email, issuer_name=ISSUER)
            setup = {"secret": secret, "qr": qr_code(uri).svg_data_uri(scale=4)}
        return render(
            request,
            "account.html",
            {
                "person": person,
                "menu": menu_of(person),
                "setup": setup,
                "notice": NOTICES.get(request.query_params.get("done", ""), ""),
                "error": error,
            },
            status_code=status,
        )

    @router.get("", response_class=HTMLResponse)
    async def account(request: Request, person: SignedDep) -> Response:
        return await page(request, person)

    @router.post("/totp/start")
    async def start(request: Request, person: SignedDep) -> Response:
        await form_of(request, person.session)
        if not person.account.totp:
            await sessions_of(request).redis.set(
                PENDING_TOTP + person.session.sid, pyotp.random_base32(), ex=600
            )
        return RedirectResponse("/console/account#setup", 303)

    @router.post("/totp/confirm")
    async def confirm(request: Request, person: SignedDep) -> Response:
        form = await form_of(request, person.session)
        redis = sessions_of(request).redis
        pending = await redis.get(PENDING_TOTP + person.session.sid)
        code = "".join(ch for ch in str(form.get("code") or "") if ch.isdigit())
        secret = pending.decode() if isinstance(pending, bytes) else pending
        if not secret or not pyotp.TOTP(secret).verify(code, valid_window=CODE_WINDOW):
            return await page(
                request,
                person,
                error="That code is not right. Try the one your app shows now.",
                status=422,
            )
        runtime = Runtime.of(request.app)
        await runtime.accounts.set_totp(person.account.email, secret)
        await redis.delete(PENDING_TOTP + person.session.sid)
        await runtime.audit.record(
            person.account.email,
            Action.CODES_ON,
            person.account.email,
            None,
            client_of(request),
        )
        return RedirectResponse("/console/account?done=on", 303)

    @router.post("/totp/off")
    async def off(request: Request, person: SignedDep) -> Response:
        form = await form_of(request, person.session)
        runtime = Runtime.of(request.app)
        secret = await runtime.accounts.totp_secret(person.account.id)
        code = "".join(ch for ch in str(form.get("code") or "") if ch.isdigit())
        if secret is None or not pyotp.TOTP(secret).verify(code, valid_window=CODE_WINDOW):
            return await page(request, person, error="That code is not right.", status=422)
        await runtime.accounts.set_totp(person.account.email, None)
        await runtime.audit.record(
            person.account.email,
            Action.CODES_OFF,
            person.account.email,
            None,
            client_of(request),
        )
        return RedirectResponse("/console/account?done=off", 303)

    return router
