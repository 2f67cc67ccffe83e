"""Time-driven work: one APScheduler (3.x, AsyncIOScheduler, memory job store) per process.

The schedule's source of truth is fanloop's own tables. Cogs add *due-work* functions to
`app.due_work`; each looks at its tables, finds what is due at `app.clock.now()` and runs it
through `run_once(key, …)`, keyed by period ("fourgrid:3:2026-W48"). A tick every `interval`
seconds runs them, so work missed while the bot was down is found at the first tick after start
(catch-up), and the period keys make every job exactly-once, even with several processes.
With several processes, only the holder of the database lease `scheduler` ticks at all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from storage.core.jobs import JobsRepo

if TYPE_CHECKING:
    from bot.core.app import App

log = logging.getLogger(__name__)
T = TypeVar("T")

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def run_once(
    jobs: JobsRepo, key: str, now: datetime, work: Callable[[], Awaitable[T]]
) -> tuple[bool, T | None]:
    """Run `work` once for `key`, ever. (False, None) when it already ran (or runs elsewhere).
    If `work` raises, the key is released so that a later tick tries again."""
    if not await jobs.claim(key, HOLDER, now):
        return False, None
    try:
        result = await work()
    except BaseException:
        await jobs.release(key)
        raise
    await jobs.finish(key, now)
    return True, result


def last_fire(day_of_week: str, hour: int, minute: int, tz: ZoneInfo, now: datetime) -> datetime:
    """The latest moment ≤ now matching a weekly schedule in the community's time zone
    (daylight-saving aware), e.g. the four-grid's "Tuesday 10:00 Asia/Shanghai"."""
    trigger = CronTrigger(day_of_week=day_of_week, hour=hour, minute=minute, timezone=tz)
    start = now.astimezone(tz) - timedelta(days=8)
    fire = trigger.get_next_fire_time(None, start)
    last = fire
    while fire is not None and fire <= now:
        last = fire
        # Step in UTC: wall-clock arithmetic would drop `fold` and, on the night clocks go
        # back, land before the second 02:30 again and again.
        step = (fire.astimezone(UTC) + timedelta(seconds=1)).astimezone(tz)
        fire = trigger.get_next_fire_time(fire, step)
    assert last is not None
    return last


class Scheduler:
    def __init__(self, app: App, interval: float = 30.0, holder: str = HOLDER) -> None:
        self.app = app
        self.interval = interval
        self.holder = holder
        self.jobs = JobsRepo(app.engine)
        self._sched = AsyncIOScheduler(timezone="UTC")
        self._ticking: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        self._ticking = asyncio.current_task()
        try:
            now = self.app.clock.now()
            lease_until = now + timedelta(seconds=self.interval * 3)
            if not await self.jobs.acquire_lease("scheduler", self.holder, now, lease_until):
                return
            await self.app.run_due()
        finally:
            self._ticking = None

    def start(self) -> None:
        self._sched.add_job(
            self.tick,
            "interval",
            seconds=self.interval,
            id="tick",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(ZoneInfo("UTC")),
        )
        self._sched.start()

    def shutdown(self) -> None:
        if self._sched.running:
            self._sched.shutdown(wait=False)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop ticking and let a tick under way finish (up to `grace` seconds), so that the
        engine is not closed under its transaction."""
        # Paused first and shut down after the wait: APScheduler's shutdown cancels a running job.
        if self._sched.running:
            self._sched.pause()
        task = self._ticking
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=grace)
        self.shutdown()
