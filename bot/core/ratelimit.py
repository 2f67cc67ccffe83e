"""Per-member rate limits: a sliding window per (account, bucket), read from the injected clock.

`RateLimiter` counts in memory. The dispatcher asks a `RateLimits`: `LocalRateLimits` (that
memory, for SQLite and its one process) or `SharedRateLimits` (the database's, for several
processes on one PostgreSQL, where a member's calls through any process count together).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Protocol

from bot.core.clock import Clock
from bot.core.errors import RateLimited
from storage.core.rate_limits import RateLimitRepo

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, clock: Clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._hits: dict[tuple[int, str], deque[float]] = {}
        self._max_keys = max_keys

    def check(
        self, account_id: int, bucket: str, calls: int, seconds: float, *, record: bool = True
    ) -> None:
        """Record a call, or raise RateLimited (with the wait in seconds) when over the limit.
        With `record=False`, only check."""
        now = self._clock.now().timestamp()
        key = (account_id, bucket)
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - seconds:
            hits.popleft()
        if len(hits) >= calls:
            wait = max(1, int(hits[0] + seconds - now + 0.999))
            raise RateLimited("error.rate_limited", seconds=wait)
        if record:
            hits.append(now)

    def refund(self, account_id: int, bucket: str) -> None:
        """Take back the last call recorded (it was refused, so it should not count)."""
        hits = self._hits.get((account_id, bucket))
        if hits:
            hits.pop()

    def _evict(self, now: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or v[-1] < now - 3600]
        for k in stale:
            del self._hits[k]


class RateLimits(Protocol):
    """What the dispatcher asks before a command or a button press runs."""

    async def admit(
        self, account_id: int, bucket: str, calls: int, seconds: float, guard: Guard
    ) -> None:
        """Record a call to `bucket`, or raise RateLimited when it is full or when the member's
        `guard` bucket (their refused attempts) is: one check for a command or a press."""

    async def refused(self, account_id: int, bucket: str, guard: Guard) -> None:
        """A call to `bucket` was refused (a UserError): give it back, count it in `guard`."""


Guard = tuple[str, int, float]  # (bucket, calls, seconds)


class LocalRateLimits:
    """The limits of one process, in memory: SQLite, where one process serves everything."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def admit(
        self, account_id: int, bucket: str, calls: int, seconds: float, guard: Guard
    ) -> None:
        self.limiter.check(account_id, *guard, record=False)
        self.limiter.check(account_id, bucket, calls, seconds)

    async def refused(self, account_id: int, bucket: str, guard: Guard) -> None:
        self.limiter.refund(account_id, bucket)
        with contextlib.suppress(RateLimited):
            self.limiter.check(account_id, *guard)


class SharedRateLimits:
    """The limits of all the processes on one PostgreSQL: one statement per command or press
    (storage/core/rate_limits.py), so N processes admit a member `calls` times per window in
    all, not N times. Rows with no call for an hour are swept now and then."""

    SWEEP_EVERY = 600.0
    IDLE = 3600.0

    def __init__(self, repo: RateLimitRepo, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self._swept = 0.0
        self._sweeper: asyncio.Task[None] | None = None

    async def admit(
        self, account_id: int, bucket: str, calls: int, seconds: float, guard: Guard
    ) -> None:
        now = self.clock.now().timestamp()
        out = await self.repo.admit(account_id, bucket, calls, seconds, now, guard)
        self._maybe_sweep(now)
        if not out.admitted:
            window = guard[2] if out.by_guard else seconds
            raise RateLimited("error.rate_limited", seconds=_wait(out.hits, window, now))

    async def refused(self, account_id: int, bucket: str, guard: Guard) -> None:
        await self.repo.refund(account_id, bucket)
        await self.repo.record(account_id, *guard, self.clock.now().timestamp())

    def _maybe_sweep(self, now: float) -> None:
        if now - self._swept < self.SWEEP_EVERY or (self._sweeper and not self._sweeper.done()):
            return
        self._swept = now
        self._sweeper = asyncio.create_task(self._sweep(now - self.IDLE), name="rate-limit-sweep")

    async def _sweep(self, before: float) -> None:
        try:
            await self.repo.sweep(before)
        except Exception as exc:
            log.warning("could not sweep old rate limits: %s", exc)


def _wait(hits: list[float], seconds: float, now: float) -> int:
    oldest = hits[0] if hits else now
    return max(1, int(oldest + seconds - now + 0.999))
