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
from dataclasses import replace
from typing import Protocol

from bot.core.clock import Clock
from bot.core.errors import RateLimited
from storage.core.rate_limits import Ask, RateLimitRepo

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
    """The limits of all the processes on one PostgreSQL (storage/core/rate_limits.py): N
    processes admit a member `calls` times per window in all, not N times.

    The checks waiting at one moment go to the database together, in one statement (group
    commit, as votes and claims do): a quiet process pays one round trip per command or press,
    a burst one per batch. A member's calls in one batch are admitted in arrival order. Rows
    with no call for an hour are swept now and then."""

    SWEEP_EVERY = 600.0
    IDLE = 3600.0
    MAX_BATCH = 1000

    def __init__(self, repo: RateLimitRepo, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self.batches = 0  # statements sent (for tests and measurements)
        self._swept = 0.0
        self._sweeper: asyncio.Task[None] | None = None
        self._waiting: list[tuple[Ask, Guard, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def admit(
        self, account_id: int, bucket: str, calls: int, seconds: float, guard: Guard
    ) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((Ask(account_id, bucket, calls, seconds), guard, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="rate-limits")
        await future

    async def refused(self, account_id: int, bucket: str, guard: Guard) -> None:
        await self.repo.refund(account_id, bucket)
        await self.repo.record(account_id, *guard, self.clock.now().timestamp())

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.MAX_BATCH]
            del self._waiting[: self.MAX_BATCH]
            by_guard: dict[Guard, list[tuple[Ask, asyncio.Future[None]]]] = {}
            for ask, guard, future in batch:
                by_guard.setdefault(guard, []).append((ask, future))
            for guard, calls in by_guard.items():
                try:
                    await self._decide(calls, guard)
                except Exception as exc:
                    for _, future in calls:
                        if not future.done():
                            future.set_exception(exc)

    async def _decide(self, calls: list[tuple[Ask, asyncio.Future[None]]], guard: Guard) -> None:
        """One statement for these calls: per account and bucket, the first ones that fit are
        admitted, the others refused with the wait."""
        keyed: dict[tuple[int, str], list[tuple[Ask, asyncio.Future[None]]]] = {}
        for ask, future in calls:
            keyed.setdefault((ask.account_id, ask.bucket), []).append((ask, future))
        asks = [replace(group[0][0], n=len(group)) for group in keyed.values()]
        now = self.clock.now().timestamp()
        outcomes = await self.repo.admit_many(asks, now, guard)
        self.batches += 1
        self._maybe_sweep(now)
        for ask, out, group in zip(asks, outcomes, keyed.values(), strict=True):
            window = guard[2] if out.by_guard else ask.seconds
            for i, (_, future) in enumerate(group):
                if future.done():
                    continue
                if i < out.admitted:
                    future.set_result(None)
                else:
                    wait = _wait(out.hits, window, now)
                    future.set_exception(RateLimited("error.rate_limited", seconds=wait))

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
