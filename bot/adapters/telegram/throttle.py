"""Telegram's sending limits, kept on our side so that flood control (429) stays the exception.

About one message a second per chat, 20 a minute per group, 30 a second overall
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
Every send records its time after waiting for a free slot, so the sliding windows are exact.

With several processes on one PostgreSQL database the limits are the bot's, not each
process's: `SharedThrottle` takes every slot in the database (one statement per send, see
storage/platform/telegram_pace.py), so N processes never send N times the limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.platform.telegram_pace import PaceLimits, TelegramPaceRepo

log = logging.getLogger(__name__)
Now = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    per_group: tuple[int, float] = (20, 60.0)  # messages per window, for groups
    overall: tuple[int, float] = (30, 1.0)


class SendThrottle:
    def __init__(
        self,
        limits: Limits | None = None,
        *,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or Limits()
        self._now = now
        self._sleep = sleep
        self._last: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._all: deque[float] = deque()

    def now(self) -> float:
        """The throttle's clock (monotonic seconds)."""
        return self._now()

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    def delay(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` may be sent (0 when it may go now)."""
        now = self._now()
        lim = self.limits
        wait = 0.0
        last = self._last.get(chat_id)
        if last is not None:
            wait = max(wait, last + lim.per_chat_interval - now)
        count, window = lim.overall
        self._prune(self._all, now - window)
        if len(self._all) >= count:
            wait = max(wait, self._all[-count] + window - now)
        if chat_id < 0:  # groups, supergroups and channels have negative ids
            gcount, gwindow = lim.per_group
            sent = self._groups.get(chat_id)
            if sent is not None:
                self._prune(sent, now - gwindow)
                if len(sent) >= gcount:
                    wait = max(wait, sent[-gcount] + gwindow - now)
        return max(0.0, wait)

    async def wait(self, chat_id: int) -> None:
        """Wait for a free slot for `chat_id`, then take it."""
        while True:
            wait = self.delay(chat_id)
            if wait <= 0:
                self.record(chat_id)
                return
            await self._sleep(wait)

    def record(self, chat_id: int) -> None:
        now = self._now()
        self._last[chat_id] = now
        self._all.append(now)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        if len(self._last) > 50_000:
            self._forget(now)

    @staticmethod
    def _prune(times: deque[float], before: float) -> None:
        while times and times[0] <= before:
            times.popleft()

    def _forget(self, now: float) -> None:
        horizon = now - max(self.limits.per_chat_interval, self.limits.per_group[1])
        for chat_id in [c for c, t in self._last.items() if t < horizon]:
            del self._last[chat_id]
            self._groups.pop(chat_id, None)


class SharedThrottle(SendThrottle):
    """The limits kept in the database for every process together. This process's own sends
    are still recorded here: `delay` (a lower bound: other processes may have sent too) spares
    a statement while this process alone already has to wait; the database has the last word.
    When the database cannot be asked, the process paces on its own view and says so."""

    def __init__(
        self,
        pace: TelegramPaceRepo,
        limits: Limits | None = None,
        *,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(limits, now=now, sleep=sleep)
        self.pace = pace
        lim = self.limits
        self._pace_limits = PaceLimits(
            per_chat_interval=lim.per_chat_interval,
            group_count=lim.per_group[0],
            group_window=lim.per_group[1],
            overall_count=lim.overall[0],
            overall_window=lim.overall[1],
        )
        self.taken = 0  # slots taken in the database (tests, measurements)

    async def wait(self, chat_id: int) -> None:
        while True:
            local = self.delay(chat_id)
            if local > 0:
                await self._sleep(local)
                continue
            try:
                shared = await self.pace.take(chat_id, self._pace_limits)
            except Exception:
                log.warning(
                    "telegram: shared sending limits unavailable; pacing alone", exc_info=True
                )
                shared = 0.0
            if shared <= 0:
                self.taken += 1
                self.record(chat_id)
                return
            await self._sleep(shared)
