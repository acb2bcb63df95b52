"""The pages' static files (web chat, analytics, console, studio) as endpoints.

Each file of `gateway/static` is read once and served with its content type, an ETag (a
phone on a slow link revalidates instead of downloading again) and a content security
policy that allows nothing from other origins: the pages talk only to their own server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib.resources import files
from pathlib import PurePath

from fastapi import Request, Response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def static_asset(name: str, folder: tuple[str, ...] = ("static",)) -> Callable[[Request], Response]:
    """An endpoint serving `gateway/<folder>/<name>` (by default `gateway/static`)."""
    body = files("gateway").joinpath(*folder, name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    media_type = MEDIA_TYPES[PurePath(name).suffix]
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer",
    }

    def endpoint(request: Request) -> Response:
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    endpoint.__name__ = "static_" + name.replace(".", "_")  # unique operation ids
    return endpoint
