"""Performs lookup effects: HTTP calls to registries, with the step's timeout.

Header values written `env:NAME` are read from the environment here, so API tokens never
sit in a service definition or a conversation snapshot.
"""

from __future__ import annotations

import os

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


def perform_lookup(request: LookupRequest, client: httpx.Client | None = None) -> LookupResult:
    """Call the registry; any failure (timeout, HTTP error, non-JSON) is a failed lookup."""
    own = client is None
    http = client or httpx.Client()
    try:
        response = http.request(
            request.method,
            request.url,
            params=dict(request.query),
            json=dict(request.body) if request.body is not None else None,
            headers=resolve_headers(dict(request.headers)),
            timeout=request.timeout,
        )
        if response.status_code >= 400:
            return LookupResult(ok=False, error=f"HTTP {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            return LookupResult(ok=False, error="reply too large")
        return LookupResult(ok=True, data=response.json())
    except httpx.TimeoutException:
        return LookupResult(ok=False, error="timeout")
    except (httpx.HTTPError, ValueError) as exc:
        return LookupResult(ok=False, error=type(exc).__name__)
    finally:
        if own:
            http.close()
