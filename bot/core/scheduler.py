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
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.core.retention import Retention
from storage.core.jobs import JobsRepo

if TYPE_CHECKING:
    from bot.core.app import App

log = logging.getLogger(__name__)
T = TypeVar("T")

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
#: Seconds between two ticks of the scheduler.
TICK_SECONDS = 30.0


class LeaseLost(RuntimeError):
    """The work's key was taken over by another process while it ran here (this process could
    not renew its lease in time); the other process finishes the work."""


async def run_once(
    jobs: JobsRepo, key: str, now: datetime, work: Callable[[], Awaitable[T]]
) -> tuple[bool, T | None]:
    """Run `work` once for `key`, ever. (False, None) when it already ran (or runs elsewhere).

    If `work` raises (or is cancelled, on a stop), the key is released so that a later tick
    tries again. If the process dies mid-work, the key's lease runs out and a later claim,
    here after a restart or in another process, takes it over and runs `work` again from the
    start: the work must be idempotent by its key (outbox dedup keys, guarded writes), so that
    what the first run already did or announced is not done twice. While `work` runs its lease
    is renewed; should another process take the key over all the same (the database was out
    of reach for a whole lease), `work` is cancelled here and `LeaseLost` raised."""
    if not await jobs.claim(key, HOLDER, now):
        return False, None
    job: asyncio.Future[T] = asyncio.ensure_future(work())
    lost: list[bool] = []
    beat = asyncio.create_task(_keep_lease(jobs, key, job, lost), name=f"lease-{key}")
    try:
        result = await job
    except BaseException:
        if lost:
            raise LeaseLost(f"job {key} was taken over by another process") from None
        try:
            await asyncio.shield(jobs.release(key, HOLDER))
        except Exception:
            log.exception("job %s: could not release the key (its lease will run out)", key)
        raise
    finally:
        beat.cancel()
        await asyncio.wait({beat})  # no renewal left running (a cancel of ours still goes up)
    await jobs.finish(key, now)
    return True, result


async def _keep_lease(jobs: JobsRepo, key: str, job: asyncio.Future[Any], lost: list[bool]) -> None:
    """Renew the key's lease every third of it while the work runs."""
    every = max(jobs.lease.total_seconds() / 3, 0.01)
    while not job.done():
        await asyncio.sleep(every)
        try:
            mine = await jobs.renew(key, HOLDER)
        except Exception:
            log.warning("job %s: could not renew its lease; trying again", key, exc_info=True)
            continue
        if not mine and not job.done():
            log.error("job %s: another process took it over; stopping it here", key)
            lost.append(True)
            job.cancel()
            return


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
    """Ticks the due work every `interval` seconds while this process holds the `scheduler`
    lease (three intervals long, renewed by every tick), then the retention clean-up."""

    LEASE = "scheduler"
    #: The lease reaches this many intervals past each tick's start.
    LEASE_TICKS = 3

    def __init__(self, app: App, interval: float = TICK_SECONDS, holder: str = HOLDER) -> None:
        self.app = app
        self.interval = interval
        self.holder = holder
        self.jobs = JobsRepo(app.engine)
        self.retention = Retention(
            app.engine,
            timedelta(days=app.settings.retention_days),
            events=timedelta(days=app.settings.event_retention_days),
            purges=app.retention_purges,
        )
        self._sched = AsyncIOScheduler(timezone="UTC")
        self._ticking: asyncio.Task[None] | None = None
        self._stopping = False

    async def tick(self) -> None:
        if self._stopping:
            return
        self._ticking = asyncio.current_task()
        try:
            now = self.app.clock.now()
            lease_until = now + timedelta(seconds=self.lease_span)
            if not await self.jobs.acquire_lease(self.LEASE, self.holder, now, lease_until):
                self.app.metrics.ticked(leader=False)
                return
            await self.app.run_due()
            self.app.metrics.ticked(leader=True)
            try:
                await self.retention.maybe_run(now)
            except Exception:
                log.exception("retention clean-up failed")
        finally:
            self._ticking = None

    @property
    def lease_span(self) -> float:
        """Seconds from a tick's start to the end of the lease it took (or renewed)."""
        return self.interval * self.LEASE_TICKS

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

    async def stop(self, grace: float = 5.0) -> None:
        """Stop ticking, let a tick under way finish (up to `grace` seconds, then cancel it: a
        job cut short gives its key back, and the next tick anywhere runs it again), and give
        the scheduler lease up, so that a restart or another process ticks at once instead of
        waiting for the lease to run out. Called before the engine is closed."""
        self._stopping = True
        # Paused first and shut down after the wait: APScheduler's shutdown cancels a running job.
        if self._sched.running:
            self._sched.pause()
        task = self._ticking
        if task is not None and not task.done() and task is not asyncio.current_task():
            _done, pending = await asyncio.wait({task}, timeout=grace)
            if pending:
                log.warning("stopping: scheduled work still running after %.0f s; cut short", grace)
                task.cancel()  # its job gives its key back: a short write
                await asyncio.wait({task}, timeout=5.0)
        self.shutdown()
        self.app.metrics.ticked(leader=False)
        try:
            await self.jobs.release_lease(self.LEASE, self.holder)
        except Exception:
            log.exception("stopping: could not give the scheduler lease up")
