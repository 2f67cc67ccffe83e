"""Per-member rate limits: a sliding window per (account, bucket), read from the injected clock."""

from __future__ import annotations

from collections import deque

from bot.core.clock import Clock
from bot.core.errors import RateLimited


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
