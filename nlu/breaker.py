"""A small circuit breaker for calls from asyncio code (the Rasa client's).

Written here rather than taken from PyPI, after looking at the candidates:
- `purgatory` (asyncio-first) lets every request through while half-open, so after each
  cooldown a hung Rasa would again cost every concurrent citizen the full timeout; it also
  reads the wall clock (`time.time`, which jumps) and routes state changes through a
  message bus and unit of work: much machinery for three states.
- `pybreaker` is maintained but its asynchronous support is Tornado's, not asyncio's.
- `aiobreaker` and `aiocircuitbreaker` have had no release since 2021/2022.
- `circuitbreaker` is a decorator raising its own error, half-open also lets every call
  through, and its clock is `datetime.utcnow()`.
What we need is a few lines: N consecutive failures open the circuit for a cooldown on
the monotonic clock, then exactly ONE trial call is let through (half-open) while the
others keep using the fallback; its success closes the circuit, its failure reopens it.

The breaker does no I/O and never awaits: asyncio runs it on one thread, so no lock is
needed. The caller reports each call it was allowed to make exactly once: `success()`,
`failure()`, or `release()` when the call ended without a verdict (cancelled).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half-open"]

log = logging.getLogger(__name__)


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; tries again after `cooldown` s."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown: float = 30.0,
        *,
        name: str = "circuit",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cooldown < 0:
            raise ValueError("threshold must be >= 1 and cooldown >= 0")
        self.threshold = threshold
        self.cooldown = cooldown
        self.name = name
        self._clock = clock
        self._failures = 0  # consecutive, while closed
        self._opened_at: float | None = None  # None: closed
        self._trial = False  # the half-open trial call is in flight
        self.times_opened = 0

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._trial or self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go out now? True while closed, and for the one trial call after
        the cooldown; the caller must then report its outcome."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._trial:
            self._trial = True
            return True
        return False

    def success(self) -> None:
        if self._opened_at is not None:
            log.info("%s: closed again after a successful trial call", self.name)
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        if self._opened_at is not None:  # the trial failed: a new cooldown
            self._open()
            return
        self._failures += 1
        if self._failures >= self.threshold:
            self._open()

    def release(self) -> None:
        """An allowed call ended without telling (cancelled): let another trial go."""
        self._trial = False

    def _open(self) -> None:
        if self._opened_at is None:
            self.times_opened += 1
            log.warning(
                "%s: open after %d consecutive failures; retrying in %.0f s",
                self.name,
                self._failures,
                self.cooldown,
            )
        self._opened_at = self._clock()
        self._trial = False
        self._failures = 0
