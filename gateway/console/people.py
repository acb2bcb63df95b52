"""People and machines, for administrators: accounts with their roles, and API keys.

An administrator adds an account with a first password they hand over (the person changes
it with `gateway users reset` or an administrator does here), gives and takes roles,
disables and enables accounts, signs a person out everywhere, and creates and revokes
API keys (shown once). Each change lands in the audit log with who made it and from where.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gateway.console.applications import menu_of
from gateway.console.auth import Signed, form_of, needs
from gateway.console.pages import N_, render
from gateway.console.signin import client_of
from gateway.runtime import Runtime
from state.access import LIMITABLE, AccountError, Grant, Role
from state.audit import Action

Administrator = Annotated[Signed, needs(Role.ADMINISTRATOR)]
NOTICES = {
    "added": N_("Account added. Give the person their first password."),
    "granted": N_("Role given."),
    "revoked": N_("Role taken away."),
    "disabled": N_("Account disabled: its sessions have ended."),
    "enabled": N_("Account enabled."),
    "signed-out": N_("Signed out everywhere."),
    "password": N_("Password changed: the person's sessions have ended."),
    "key-revoked": N_("Key revoked: it no longer opens the API."),
    "codes-off": N_("One-time codes turned off: the person signs in with the password alone."),
}


def _grant(form: FormData) -> Grant:
    try:
        role = Role(str(form.get("role") or ""))
    except ValueError as exc:
        raise AccountError("Choose a role.") from exc
    service = str(form.get("service") or "").strip() or None
    if service is not None and role not in LIMITABLE:
        raise AccountError(f"The {role} role is for every service: leave the service empty.")
    return Grant(role, service)


def people_router() -> APIRouter:
    router = APIRouter(prefix="/console/people", include_in_schema=False)

    async def page(
        request: Request,
        person: Signed,
        *,
        error: str = "",
        new_key: str = "",
        status_code: int = 200,
    ) -> Response:
        runtime = Runtime.of(request.app)
        catalog = runtime.desk.catalog
        return render(
            request,
            "people.html",
            {
                "person": person,
                "menu": menu_of(person),
                "accounts": await runtime.accounts.list(),
                "keys": await runtime.api_keys.list(),
                "roles": list(Role),
                "services": [s.id for s in catalog.menu()] if catalog else [],
                "notice": NOTICES.get(request.query_params.get("done", ""), ""),
                "error": error,
                "new_key": new_key,
            },
            status_code=status_code,
        )

    @router.get("", response_class=HTMLResponse)
    async def people(request: Request, person: Administrator) -> Response:
        return await page(request, person)

    @router.post("/accounts")
    async def add(request: Request, person: Administrator) -> Response:
        form = await form_of(request, person.session)
        runtime = Runtime.of(request.app)
        email = str(form.get("email") or "")
        try:
            grant = _grant(form)
            account = await runtime.accounts.add(email, str(form.get("password") or ""), [grant])
        except AccountError as exc:
            return await page(request, person, error=str(exc), status_code=422)
        await _audit(request, person, Action.ACCOUNT_CREATED, account.email, _said(grant))
        return RedirectResponse("/console/people?done=added", 303)

    @router.post("/accounts/{email}/{change}")
    async def change(request: Request, person: Administrator, email: str, change: str) -> Response:
        form = await form_of(request, person.session)
        accounts = Runtime.of(request.app).accounts
        detail: dict[str, object] | None
        try:
            match change:
                case "grant":
                    grant = _grant(form)
                    await accounts.grant(email, grant)
                    action, detail, done = Action.ROLE_GRANTED, _said(grant), "granted"
                case "revoke":
                    grant = _grant(form)
                    await accounts.revoke(email, grant.role, grant.service)
                    action, detail, done = Action.ROLE_REVOKED, _said(grant), "revoked"
                case "disable":
                    if email.lower() == person.account.email:
                        raise AccountError("You cannot disable your own account.")
                    await accounts.disable(email)
                    await accounts.end_sessions(email)
                    action, detail, done = Action.ACCOUNT_DISABLED, None, "disabled"
                case "enable":
                    await accounts.enable(email)
                    await accounts.end_sessions(email)  # none from before comes back
                    action, detail, done = Action.ACCOUNT_ENABLED, None, "enabled"
                case "sign-out":
                    await accounts.end_sessions(email)
                    action, detail, done = Action.SIGN_OUT, {"everywhere": True}, "signed-out"
                case "codes-off":  # a lost phone: the person sets codes up again
                    await accounts.set_totp(email, None)
                    await accounts.end_sessions(email)
                    action, detail, done = Action.CODES_OFF, None, "codes-off"
                case "password":
                    await accounts.set_password(email, str(form.get("password") or ""))
                    action, detail, done = Action.PASSWORD_RESET, None, "password"
                case _:
                    return await page(request, person, error="No such change.", status_code=404)
        except AccountError as exc:
            return await page(request, person, error=str(exc), status_code=422)
        await _audit(request, person, action, email.lower(), detail)
        return RedirectResponse(f"/console/people?done={done}", 303)

    @router.post("/keys")
    async def add_key(request: Request, person: Administrator) -> Response:
        form = await form_of(request, person.session)
        keys = Runtime.of(request.app).api_keys
        try:
            grant = _grant(form)
            key, secret = await keys.add(str(form.get("name") or ""), [grant], person.account.email)
        except AccountError as exc:
            return await page(request, person, error=str(exc), status_code=422)
        await _audit(request, person, Action.KEY_CREATED, key.name, _said(grant))
        # Shown once, on this answer only: never stored, never in a URL.
        return await page(request, person, new_key=secret)

    @router.post("/keys/{name}/revoke")
    async def revoke_key(request: Request, person: Administrator, name: str) -> Response:
        await form_of(request, person.session)
        try:
            revoked = await Runtime.of(request.app).api_keys.revoke(name)
        except AccountError as exc:  # no such name, or none a key could have
            return await page(request, person, error=str(exc), status_code=404)
        if not revoked:
            return await page(request, person, error=N_("No such key in use."), status_code=404)
        await _audit(request, person, Action.KEY_REVOKED, name, None)
        return RedirectResponse("/console/people?done=key-revoked", 303)

    return router


def _said(grant: Grant) -> dict[str, object]:
    return {"role": grant.role.value, **({"service": grant.service} if grant.service else {})}


async def _audit(
    request: Request, person: Signed, action: Action, target: str, detail: dict[str, object] | None
) -> None:
    await Runtime.of(request.app).audit.record(
        person.account.email, action, target, detail, client_of(request)
    )
