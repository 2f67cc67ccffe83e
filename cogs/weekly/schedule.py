"""The weekly loop's due work, run by the scheduler's tick (and the console's /advance).

Each tick looks at the tables and the community settings at the clock's now and runs what is
due through `run_once`, keyed by period, so work is exactly-once across restarts and processes:

- `fourgrid-open:<community>:<ISO week>` — the configured day and time (in the community's time
  zone) has passed since the latest release, and that release has no report yet. After downtime
  the first tick finds the missed period and opens the report then, once.
- `fourgrid-close:<report>` then `fourgrid-results:<report>` — a report closes when its time is
  up (the configured duration after it actually opened) and its results are posted. A reopened
  report's keys end in `:<round>`, so it closes and posts again.
- `release:<release>` — a release whose changelog was not posted (the process stopped half-way).
- `digest:<community>:<local date>` — the daily admin digest (caught up within 12 hours).
- `roadmap:<community>:<year-month>` — the monthly roadmap post (caught up within 3 days).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.scheduler import last_fire, run_once
from bot.core.settings import SettingsService
from cogs.weekly import config
from cogs.weekly.config import WeeklyConfig
from cogs.weekly.digest import DigestWork
from cogs.weekly.flows import WeeklyFlows
from cogs.weekly.service import iso_period
from storage.core.jobs import JobsRepo

log = logging.getLogger(__name__)

DIGEST_GRACE = timedelta(hours=12)
ROADMAP_GRACE = timedelta(days=3)


def last_monthly_fire(day: int, hour: int, minute: int, tz: ZoneInfo, now: datetime) -> datetime:
    """The latest moment ≤ now that is `day` of a month at hour:minute in `tz`."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    for _ in range(2):
        candidate = datetime(year, month, day, hour, minute, tzinfo=tz)
        if candidate <= now:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    raise AssertionError("unreachable: last month's date is always in the past")


class WeeklySchedule:
    def __init__(
        self,
        flows: WeeklyFlows,
        digest: DigestWork,
        clock: Clock,
        jobs: JobsRepo,
        settings: SettingsService,
    ) -> None:
        self.clock = clock
        self.jobs = jobs
        self.settings = settings
        self.flows = flows
        self.service = flows.service
        self.digest = digest

    async def run_due(self) -> None:
        now = self.clock.now()
        await self._guard("releases", self._releases(now))
        await self._guard("close", self._close(now))
        await self._guard("publish", self._publish(now))
        for cid in await self.service.releases.community_ids():
            await self._guard(f"community {cid}", self._community(cid, now))

    async def _guard(self, what: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("weekly due work failed: %s", what)

    async def _releases(self, now: datetime) -> None:
        for release in await self.service.releases.unannounced():
            await self.flows.finish_release(release, release.created_by)

    async def _close(self, now: datetime) -> None:
        for report in await self.service.reports.due_to_close(now):
            key = f"fourgrid-close:{report.id}" + (f":{report.reopened}" if report.reopened else "")
            await run_once(self.jobs, key, now, _bind(self.flows.close, report))

    async def _publish(self, now: datetime) -> None:
        for report in await self.service.reports.unpublished():
            await self.flows.publish(report.id)

    async def _community(self, cid: int, now: datetime) -> None:
        cfg = await config.load(self.settings, cid, fresh=True)
        tz = ZoneInfo(cfg.timezone)
        await self._open(cid, cfg, tz, now)
        await self._digest(cid, cfg, tz, now)
        await self._roadmap(cid, cfg, tz, now)

    async def _open(self, cid: int, cfg: WeeklyConfig, tz: ZoneInfo, now: datetime) -> None:
        if not cfg.auto:
            return
        release = await self.service.releases.latest(cid)
        if release is None:
            return
        fire = last_fire(cfg.day, cfg.hour, cfg.minute, tz, now)
        if fire < release.created_at:
            return
        reports = self.service.reports
        key = f"fourgrid-open:{cid}:{iso_period(fire, tz)}"
        report = await reports.for_release(release.id)
        if report is not None:
            # Opened by a run whose process died before announcing it: the key's claim is taken
            # over once its lease runs out, and the opening announced (once, by its dedup key).
            if await self.jobs.unfinished(key):
                await run_once(self.jobs, key, now, _bind(self.flows.announce_report, report))
            return
        if await reports.current(cid):
            return  # the previous one is still open
        await run_once(self.jobs, key, now, _bind(self.flows.open_report, release, None))

    async def _digest(self, cid: int, cfg: WeeklyConfig, tz: ZoneInfo, now: datetime) -> None:
        fire = last_fire("*", cfg.digest_hour, cfg.digest_minute, tz, now)
        if now - fire > DIGEST_GRACE:
            return
        key = f"digest:{cid}:{fire.astimezone(tz).date().isoformat()}"
        if await self.jobs.done(key):
            return
        await run_once(self.jobs, key, now, _bind(self.digest.send_digest, cid, key))

    async def _roadmap(self, cid: int, cfg: WeeklyConfig, tz: ZoneInfo, now: datetime) -> None:
        if not cfg.roadmap_day:
            return
        fire = last_monthly_fire(cfg.roadmap_day, cfg.roadmap_hour, cfg.roadmap_minute, tz, now)
        if now - fire > ROADMAP_GRACE:
            return
        key = f"roadmap:{cid}:{fire.astimezone(tz).strftime('%Y-%m')}"
        if await self.jobs.done(key):
            return
        await run_once(self.jobs, key, now, _bind(self.digest.post_roadmap, cid, fire, key))


def _bind(fn: Callable[..., Awaitable[object]], *args: object) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        return await fn(*args)

    return call
