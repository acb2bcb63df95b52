"""The demo census (`census.yaml`): lookups answered from a handful of sample citizens.

Only with GATEWAY_DEVELOPMENT=true: a newcomer's `make run` has no census to call, and
without one every citizen would read "we could not find your record". A lookup to
another address goes to the network as always.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from dialogs.messages import LookupRequest, LookupResult

Lookup = Callable[[LookupRequest], Awaitable[LookupResult]]


@dataclass(frozen=True, slots=True)
class DemoCensus:
    url: str  # lookups under this address are answered here
    citizens: dict[str, dict[str, Any]]

    @classmethod
    def shipped(cls) -> DemoCensus:
        data = yaml.safe_load((files("gateway.demo") / "census.yaml").read_text("utf-8"))
        return cls(str(data["url"]), {str(k): dict(v) for k, v in data["citizens"].items()})

    def answer(self, request: LookupRequest) -> LookupResult | None:
        """The record of the CID at the end of the URL; None for another address."""
        if not request.url.startswith(self.url):
            return None
        cid = unquote(urlsplit(request.url).path.rsplit("/", 1)[-1])
        found = self.citizens.get(cid)
        if found is None:
            return LookupResult(ok=False, error="HTTP 404")
        return LookupResult(ok=True, data={"cid": cid, **found})

    def in_front_of(self, lookup: Lookup) -> Lookup:
        """`lookup`, with this census answering its own address first."""

        async def looked_up(request: LookupRequest) -> LookupResult:
            return self.answer(request) or await lookup(request)

        return looked_up
