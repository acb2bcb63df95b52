"""/openapi.json, /docs and /redoc behind a key (any role), when `GATEWAY_PRIVATE_ENDPOINTS`
names `docs` (otherwise FastAPI serves them openly, as `gateway.app` configures it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.api.auth import require
from gateway.settings import Settings
from state.access import Role

OPENAPI_URL = "/openapi.json"


def private_docs_router(settings: Settings) -> APIRouter:
    # Any role: a machine of any kind may read the description of the API it calls.
    router = APIRouter(include_in_schema=False, dependencies=[require(*Role)])

    @router.get(OPENAPI_URL)
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @router.get("/docs")
    def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=request.app.title)

    @router.get("/redoc")
    def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=OPENAPI_URL, title=request.app.title)

    return router
