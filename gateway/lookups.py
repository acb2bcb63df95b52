"""Performs lookup effects: HTTP calls to registries, within the step's timeout.

The timeout bounds the whole call (connecting, waiting and reading), not each read: a
registry trickling bytes must not hold a USSD answer past the aggregator's patience.
Header values written `env:NAME` are read from the environment here, so API tokens never
sit in a service definition or a conversation snapshot.
"""

from __future__ import annotations

import json
import os
import time

import httpx2 as httpx

from dialogs.messages import LookupRequest, LookupResult

MAX_RESPONSE_BYTES = 64 * 1024  # a registry reply larger than this is refused


def resolve_headers(headers: dict[str, str]) -> dict[str, str]:
    resolved = {}
    for name, value in headers.items():
        if value.startswith("env:"):
            env_value = os.environ.get(value[4:])
            if env_value is None:
                continue  # unset secret: send nothing rather than the placeholder
            value = env_value
        resolved[name] = value
    return resolved


async def perform_lookup(
    request: LookupRequest, client: httpx.AsyncClient | None = None
) -> LookupResult:
    """Call the registry; any failure (timeout, HTTP error, bad JSON) is a failed lookup."""
    own = client is None
    http = client or httpx.AsyncClient()
    deadline = time.monotonic() + request.timeout
    try:
        async with http.stream(
            request.method,
            request.url,
            params=dict(request.query),
            json=dict(request.body) if request.body is not None else None,
            headers=resolve_headers(dict(request.headers)),
            timeout=request.timeout,
        ) as response:
            if response.status_code >= 400:
                return LookupResult(ok=False, error=f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    return LookupResult(ok=False, error="reply too large")
                if time.monotonic() > deadline:
                    return LookupResult(ok=False, error="timeout")
        return LookupResult(ok=True, data=json.loads(body))
    except httpx.TimeoutException:
        return LookupResult(ok=False, error="timeout")
    except (httpx.HTTPError, ValueError, RecursionError) as exc:
        return LookupResult(ok=False, error=type(exc).__name__)
    finally:
        if own:
            await http.aclose()
