"""Performs lookup effects: HTTP calls to registries, within the step's timeout.

The timeout bounds the whole call (connecting, waiting and reading), not each read: a
registry trickling bytes must not hold a USSD answer past the aggregator's patience.
Header values written `env:NAME` are read from the environment here, so API tokens never
sit in a service definition or a conversation snapshot.

aiohttp rather than the senders' httpx: a lookup sits inside a USSD hop, and under load
httpx spent about 0.5 ms of CPU a call where aiohttp spends 0.17 ms (measured on the fake
census of `bench/`), a tenth of the whole hop.
"""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp

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


def registry_session() -> aiohttp.ClientSession:
    """One session for all lookups: connections to a registry are reused across hops.

    Without cookies: the session serves every citizen, and a cookie a registry set on
    one citizen's lookup would go with the next citizen's (handling them cost too)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, ttl_dns_cache=300),
        cookie_jar=aiohttp.DummyCookieJar(),
        raise_for_status=False,
    )


async def perform_lookup(
    request: LookupRequest, session: aiohttp.ClientSession | None = None
) -> LookupResult:
    """Call the registry; any failure (timeout, HTTP error, bad JSON) is a failed lookup."""
    own = session is None
    http = session or registry_session()
    try:
        async with asyncio.timeout(request.timeout):
            return await _call(http, request)
    except TimeoutError:
        return LookupResult(ok=False, error="timeout")
    except (aiohttp.ClientError, ValueError, RecursionError) as exc:
        return LookupResult(ok=False, error=type(exc).__name__)
    finally:
        if own:
            await http.close()


async def _call(http: aiohttp.ClientSession, request: LookupRequest) -> LookupResult:
    async with http.request(
        request.method,
        request.url,
        params=dict(request.query),
        json=dict(request.body) if request.body is not None else None,
        headers=resolve_headers(dict(request.headers)),
    ) as response:
        if response.status >= 400:
            return LookupResult(ok=False, error=f"HTTP {response.status}")
        body = bytearray()
        async for chunk in response.content.iter_any():
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                return LookupResult(ok=False, error="reply too large")
    return LookupResult(ok=True, data=json.loads(body))
