"""The error answers the API gives, for `responses=` so that OpenAPI lists them.

Errors raised as `HTTPException` reach the client as `{"detail": "..."}` (FastAPI's
handler); the public pages (`/d/`, `/verify/`) answer theirs with an HTML page instead.
Request validation (422) is described by FastAPI itself, and answered by
`invalid_request`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


class Detail(BaseModel):
    """Why the request was refused."""

    detail: str


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}

_DESCRIPTIONS = {
    401: "No key, or a wrong one (`WWW-Authenticate: Bearer`).",
    403: "The key does not hold the role; or the API is closed (no `GATEWAY_ADMIN_TOKEN`"
    " and no API key).",
    404: "Not found.",
    429: "Too many attempts from this client; try again later.",
}


def error(status: int, description: str = "") -> dict[str, Any]:
    """A `{"detail": ...}` answer with this status (a generic description by default)."""
    entry: dict[str, Any] = {"model": Detail, "description": description or _DESCRIPTIONS[status]}
    if status == 429:
        entry["headers"] = RETRY_AFTER
    return entry


def errors(*statuses: int) -> Responses:
    return {status: error(status) for status in statuses}


# Every route that requires a role (`gateway.api.auth`).
ADMIN_ERRORS = errors(401, 403, 429)


def html_answer(status: int, description: str) -> dict[str, Any]:
    """An answer given as an HTML page (the public document pages)."""
    entry: dict[str, Any] = {"description": description, "content": {"text/html": {}}}
    if status == 429:
        entry["headers"] = RETRY_AFTER
    return entry


async def invalid_request(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422, written as ASCII JSON: the errors quote the input, and an input with
    a lone surrogate (which JSON can carry) cannot be written as UTF-8, so FastAPI's own
    answer to it was a 500."""
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors())
    return Response(json.dumps({"detail": errors}), 422, media_type="application/json")
