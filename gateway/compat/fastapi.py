"""FastAPI: a route whose endpoint takes the raw Request, without dependency solving.

Leans on `APIRoute.get_route_handler`, which FastAPI calls once per route to build the
ASGI handler; overriding it hands requests straight to the endpoint. Checked by
tests/gateway/compat/test_fastapi.py against the installed FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class RequestRoute(APIRoute):
    """A route listed in the OpenAPI docs like any other, whose endpoint takes the Request.

    The adapters read and check provider bodies themselves (signatures need the raw
    bytes), so FastAPI's per-request dependency solving had nothing to do but still cost
    about 5% of a USSD hop.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint
