"""Rate limits shared by every process, on the gateway's own Redis.

One limiter for everything counted per client, per number or in all (documents and
verification pages, the web chat, wrong admin tokens, verification codes, outbound
budgets), built on the `limits` package's sliding window counter: two small keys per
limit, Lua scripts that run on every Redis the gateway supports (the embedded 6.2
included: no `EXPIRE ... NX`), atomic per limit. It borrows the session store's connection
pool (one server or Sentinel); a Cluster gets a client of its own from the URL.

What happens when Redis cannot count is the caller's choice (`fail_open`): a public page
stays up, money is never spent uncounted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.ops.metrics import count_refused
from state.store import Client

logger = logging.getLogger(__name__)

KEY_PREFIX = "gw:limit"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a hit was allowed; when refused, which limit and when to try again."""

    allowed: bool
    limit: RateLimitItem | None = None  # the limit that refused
    retry_after: int = 0  # seconds

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Verdict(True)


class Limiter:
    """Sliding-window rate limits in Redis, keyed by a scope and identifiers."""

    def __init__(self, client: Client, url: str | None = None) -> None:
        if isinstance(client, Redis):
            storage: RedisStorage = RedisStorage(
                "async+redis://",
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                connection_pool=client.connection_pool,  # type: ignore[arg-type]
            )
        else:  # a Cluster: limits makes its own client from the same nodes
            if url is None or not url.startswith("redis+cluster://"):
                raise ValueError("a Redis Cluster limiter needs its redis+cluster:// URL")
            storage = RedisClusterStorage(
                "async+" + url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
            )
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    async def hit(
        self,
        limits: Sequence[RateLimitItem],
        *identifiers: str,
        cost: int = 1,
        fail_open: bool = True,
    ) -> Verdict:
        """Count `cost` against each of `limits` for `identifiers`, in order, stopping at
        the first that refuses. Each limit is checked and counted atomically, so nothing
        ever passes a limit; a refusal after earlier limits counted leaves them counted
        (a stricter outcome, never a looser one)."""
        try:
            for item in limits:
                if not await self.strategy.hit(item, *identifiers, cost=cost):
                    return Verdict(False, item, await self._retry_after(item, identifiers))
        except (StorageError, RedisError, OSError) as exc:
            outcome = "allowed" if fail_open else "refused"
            logger.warning("%s not counted (%s): %s", identifiers[:1], exc, outcome)
            return ALLOWED if fail_open else Verdict(False, None, 60)
        return ALLOWED

    async def allows(
        self, limits: Sequence[RateLimitItem], *identifiers: str, fail_open: bool = True
    ) -> Verdict:
        """Whether one more hit would pass every one of `limits`, counting nothing (a
        sign-in is refused before its password is checked, and counted only if wrong)."""
        try:
            for item in limits:
                if not await self.strategy.test(item, *identifiers):
                    return Verdict(False, item, await self._retry_after(item, identifiers))
        except (StorageError, RedisError, OSError) as exc:
            logger.warning("%s not checked (%s)", identifiers[:1], exc)
            return ALLOWED if fail_open else Verdict(False, None, 60)
        return ALLOWED

    async def _retry_after(self, item: RateLimitItem, identifiers: Sequence[str]) -> int:
        stats = await self.strategy.get_window_stats(item, *identifiers)
        return max(1, int(stats.reset_time - time.time()) + 1)

    async def clear(self, limits: Sequence[RateLimitItem], *identifiers: str) -> None:
        """Forget what was counted (a citizen proved their number: start afresh)."""
        for item in limits:
            await self.strategy.clear(item, *identifiers)


class RateLimit:
    """At most `limit` requests a minute per client address and page, counted in Redis
    (shared by every worker, the embedded Redis too). A Redis outage lets requests
    through: pages stay up."""

    def __init__(self, limiter: Limiter, limit: int) -> None:
        self.limiter = limiter
        self.rates = [RateLimitItemPerMinute(limit)]

    async def allows(self, scope: str, client: str) -> int:
        """0 when allowed, else the seconds to wait."""
        verdict = await self.limiter.hit(self.rates, "public", scope, client)
        if verdict.allowed:
            return 0
        count_refused("public_pages")
        return verdict.retry_after
