"""FastAPI: a route whose endpoint takes the raw Request, without dependency solving.

Leans on `APIRoute.get_route_handler`, which FastAPI calls once per route to build the
ASGI handler (`request_response(self.get_route_handler())`); overriding it hands requests
straight to the endpoint. FastAPI's per-request dependency solving had nothing to do for
the webhooks but still cost about 5% of a USSD hop (bench/hop_cpu.py --callgrind).
Checked by tests/gateway/compat/test_fastapi.py against the installed FastAPI;
`fastapi>=0.165,<0.166` in pyproject.toml keeps an unchecked release out (FastAPI breaks
in minor releases).

When the contract test fails after an upgrade: read how the new `APIRoute` builds its
handler. If a route can be given its handler some public way, use that and drop
`RequestRoute`; otherwise override whatever now builds it, and compare
`python -m bench.hop_cpu --callgrind` before and after.
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
