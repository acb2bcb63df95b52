"""The console under `/console`: its pages' routers, its stylesheet, and what a console
page answers when the visitor must sign in (303 to `/console`), lacks the role (403),
asks for what is not there (404) or finds the console closed (403)."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response

from gateway.api.static import static_asset
from gateway.console.account import account_router
from gateway.console.applications import applications_router, home_of
from gateway.console.audit import audit_router
from gateway.console.auth import (
    HOME,
    ConsoleClosedError,
    SignedDep,
    SignInNeededError,
    sign_in_url,
)
from gateway.console.figures import figures_router
from gateway.console.pages import N_, render
from gateway.console.people import people_router
from gateway.console.signin import signin_router
from gateway.console.sso import sso_router
from gateway.console.studio import studio_router
from gateway.settings import Settings

HEADINGS = {403: N_("Not allowed"), 404: N_("Not found"), 405: N_("Not allowed")}


def add_console(app: FastAPI, settings: Settings) -> None:
    app.add_api_route(
        "/console/console.css",
        static_asset("console.css"),
        methods=["GET"],
        include_in_schema=False,
    )
    app.include_router(signin_router(settings))

    @app.get(HOME, include_in_schema=False)
    async def home(person: SignedDep) -> Response:
        return RedirectResponse(home_of(person), 303)

    app.include_router(sso_router())
    app.include_router(applications_router())
    app.include_router(account_router())
    app.include_router(people_router())
    app.include_router(figures_router())
    app.include_router(audit_router())
    app.include_router(studio_router())

    @app.exception_handler(SignInNeededError)
    async def sign_in_needed(request: Request, exc: SignInNeededError) -> Response:
        return RedirectResponse(sign_in_url(exc.next_path), 303)

    @app.exception_handler(ConsoleClosedError)
    async def closed(request: Request, exc: ConsoleClosedError) -> Response:
        # Closed as any entry point without its secret is: refused, not broken (no 5xx).
        message = N_("The console is closed: GATEWAY_CONSOLE_SECRET is not set.")
        return _page(request, 403, message, heading=N_("Console closed"))

    @app.exception_handler(HTTPException)
    async def console_errors(request: Request, exc: HTTPException) -> Response:
        # Console pages answer people with a page; everything else keeps its JSON.
        if request.url.path.startswith("/console") and exc.status_code in HEADINGS:
            return _page(request, exc.status_code, str(exc.detail))
        return await http_exception_handler(request, exc)


def _page(request: Request, status: int, message: str, heading: str = "") -> Response:
    return render(
        request,
        "error.html",
        {"heading": heading or HEADINGS.get(status, "Error"), "message": message},
        status_code=status,
    )
