"""What the weekly loop tells the community, shared by the commands and the schedule: a release's
changelog and shipped notices, the report's opening, its results. Each step runs once per key
(`run_once`) and every message goes through the outbox with a dedup key, so a retry after a
crash, or a second process, never posts twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.core.errors import UserError
from bot.core.events import RELEASE_PUBLISHED, REPORT_RESULTS
from bot.core.feature import DueWorkTools
from bot.core.outbox import Render
from bot.core.reply import Reply
from bot.core.scheduler import run_once
from cogs.suggestions.status import SuggestionStatus
from cogs.weekly import config, release_views
from cogs.weekly.fourgrid import ReportStatus
from cogs.weekly.results_views import results_reply
from cogs.weekly.service import Results, WeeklyService
from storage.weekly.releases import ReleaseRow
from storage.weekly.reports import ReportRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shipped:
    marked: int  # suggestions that became "shipped"
    told: int  # notices queued for their voters


def next_fire(day: str, hour: int, minute: int, tz: ZoneInfo, now: datetime) -> datetime | None:
    trigger = CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)
    return trigger.get_next_fire_time(None, now.astimezone(tz))


class WeeklyFlows:
    def __init__(self, service: WeeklyService, tools: DueWorkTools) -> None:
        self.service = service
        self.tools = tools

    def tr(self, locale: str) -> release_views.Tr:
        def t(key: str, /, **params: object) -> str:
            return self.tools.translator(locale, key, **params)

        return t

    async def tz(self, community_id: int) -> ZoneInfo:
        return await self.tools.settings.timezone(community_id)

    # -- releases -----------------------------------------------------------------------------

    async def finish_release(self, release: ReleaseRow, actor: int) -> Shipped | None:
        """Mark its suggestions shipped, tell their voters, post the changelog. None when this
        already ran (or runs in another process)."""
        now = self.tools.clock.now()
        _ran, result = await run_once(
            self.tools.jobs, f"release:{release.id}", now, lambda: self._finish(release, actor)
        )
        return result

    async def _finish(self, release: ReleaseRow, actor: int) -> Shipped:
        cid = release.community_id
        items = await self.service.items(release.id)
        shipped = await self.ship(release, [i.suggestion_id for i in items], actor)
        cfg = await config.load(self.tools.settings, cid)
        tz = await self.tz(cid)
        upcoming = None
        if cfg.auto:
            upcoming = next_fire(cfg.day, cfg.hour, cfg.minute, tz, self.tools.clock.now())

        def render(locale: str) -> Reply:
            t = self.tr(locale)
            return release_views.changelog(
                t, release, items, release_views.when(t, upcoming, tz) if upcoming else None
            )

        await self.tools.outbox.announce(cid, render, dedup_key=f"release:{release.id}")
        if self.tools.events is not None:
            data = {
                "release": {
                    "id": release.id,
                    "version": release.version,
                    "released_on": release.released_on.isoformat(),
                    "items": [
                        {
                            "position": i.position + 1,
                            "title": i.title,
                            "suggestion_id": i.suggestion_id,
                        }
                        for i in items
                    ],
                }
            }
            await self.tools.events.emit(cid, RELEASE_PUBLISHED, data, key=f"release:{release.id}")
        await self.service.releases.mark_announced(release.id, self.tools.clock.now())
        return shipped

    async def ship(
        self, release: ReleaseRow, suggestion_ids: Sequence[int | None], actor: int
    ) -> Shipped:
        """Mark the release's suggestions shipped and tell their voters (once per release and
        suggestion, whoever asks again)."""
        cid = release.community_id
        svc = self.service.suggestions()
        marked = told = 0
        for sid in suggestion_ids:
            if sid is None or svc is None:
                continue
            try:
                row = await svc.get(cid, sid, include_hidden=True)
            except UserError:
                continue  # deleted since
            if row.status not in (SuggestionStatus.SHIPPED, SuggestionStatus.DUPLICATE):
                shipped = SuggestionStatus.SHIPPED
                row = (await svc.set_status(cid, row.id, shipped, release.version, actor))[1]
                marked += 1
            if row.status != SuggestionStatus.SHIPPED or row.status_note != release.version:
                continue  # shipped by an earlier release: its voters heard of it then
            voters = [a for a in await svc.voters(row.id) if a != actor]
            told += await self.tools.outbox.notify(
                cid,
                voters,
                self._shipped_notice(release.version, row.id, row.title),
                dedup_key=f"shipped:{release.id}:{row.id}",
            )
        return Shipped(marked, told)

    async def unship(
        self, release: ReleaseRow, suggestion_ids: Sequence[int | None], actor: int
    ) -> int:
        """Suggestions this release marked shipped go back to the status they had before it
        (those changed since are left alone); how many went back. Their voters are not told:
        a correction of a mistake, not news."""
        svc = self.service.suggestions()
        if svc is None:
            return 0
        back = 0
        for sid in suggestion_ids:
            if sid is not None and await svc.unship(
                release.community_id, sid, release.version, actor
            ):
                back += 1
        return back

    def _shipped_notice(self, version: str, sid: int, title: str) -> Render:
        def render(locale: str) -> Reply:
            t = self.tr(locale)
            return Reply(text=t("release.notice.shipped", version=version, id=sid, title=title))

        return render

    # -- the report ---------------------------------------------------------------------------

    async def open_report(self, release: ReleaseRow, opened_by: int | None) -> ReportRow:
        cid = release.community_id
        cfg = await config.load(self.tools.settings, cid)
        tz = await self.tz(cid)
        report = await self.service.open_report(release, cfg, tz, opened_by, self.tools.clock.now())
        await self._announce_opened(release, report, tz)
        return report

    async def announce_report(self, report: ReportRow) -> None:
        """Announce an open report (again: the dedup key makes it once)."""
        release = await self.service.releases.get(report.community_id, report.release_id)
        if release is None or report.status != ReportStatus.OPEN:
            return
        await self._announce_opened(release, report, await self.tz(report.community_id))

    async def _announce_opened(self, release: ReleaseRow, report: ReportRow, tz: ZoneInfo) -> None:
        items = await self.service.items(release.id)

        def render(locale: str) -> Reply:
            t = self.tr(locale)
            reply = release_views.report_opened(t, release, report, items, tz)
            if report.reopened:
                reply.title = t("fourgrid.reopened") + "\n" + reply.title
            return reply

        key = f"fourgrid-open:{report.id}"
        if report.reopened:
            key += f":{report.reopened}"
        await self.tools.outbox.announce(release.community_id, render, dedup_key=key)

    async def reopen(self, report: ReportRow, closes_at: datetime) -> ReportRow:
        """Reopen a closed report until `closes_at` and say so; closing it again posts
        corrected results (see `publish`)."""
        if not await self.service.reports.reopen(report.id, closes_at):
            raise UserError("fourgrid.not_closed")
        reopened = await self.service.reports.by_id(report.id)
        assert reopened is not None
        await self.announce_report(reopened)
        return reopened

    async def close(self, report: ReportRow) -> bool:
        """Close now and post the results (once, whoever gets there first)."""
        closed = await self.service.close(report)
        await self.publish(report.id)
        return closed

    async def publish(self, report_id: int) -> None:
        now = self.tools.clock.now()
        report = await self.service.reports.by_id(report_id)
        key = _results_key(report_id, report.reopened if report else 0)
        await run_once(self.tools.jobs, key, now, lambda: self._publish(report_id))

    async def _publish(self, report_id: int) -> None:
        report = await self.service.reports.by_id(report_id)
        if (
            report is None
            or report.status != ReportStatus.CLOSED
            or report.results_posted_at is not None
        ):
            return
        cid = report.community_id
        cfg = await config.load(self.tools.settings, cid)
        tz = await self.tz(cid)
        results = await self.service.results(report, cfg)

        def render(locale: str) -> Reply:
            t = self.tr(locale)
            reply = results_reply(t, locale, results, cfg, tz)
            if report.reopened:
                reply.title = t("fourgrid.results.corrected") + "\n" + reply.title
            return reply

        key = _results_key(report.id, report.reopened)
        await self.tools.outbox.announce(cid, render, dedup_key=key)
        if self.tools.events is not None:
            await self.tools.events.emit(cid, REPORT_RESULTS, results_data(results), key=key)
        award = results.ranking.award
        await self.service.reports.mark_published(
            report.id, award.item_id if award else None, self.tools.clock.now()
        )


def _results_key(report_id: int, reopened: int) -> str:
    """The results of a report are posted once per round (a reopened report posts again)."""
    return f"fourgrid-results:{report_id}" + (f":{reopened}" if reopened else "")


def results_data(res: Results) -> dict[str, object]:
    """A four-grid report's results as events show them: totals only, no ballot."""
    flagged = {r.item_id for r in res.ranking.not_good_enough}
    award = res.ranking.award
    return {
        "report": {
            "id": res.report.id,
            "period": res.report.period,
            "release": res.release.version,
            "turnout": res.turnout,
            "ranking": [
                {
                    "rank": n,
                    "title": r.title,
                    "suggestion_id": r.suggestion_id,
                    "love": r.counts[0],
                    "fine": r.counts[1],
                    "not_good_enough": r.counts[2],
                    "untried": r.counts[3],
                    "love_wilson_lower": round(r.score, 4),
                    "flagged": r.item_id in flagged,
                }
                for n, r in enumerate(res.ranking.ranked, 1)
            ],
            "award": award.title if award else None,
            "anticipated": [
                {"suggestion_id": sid, "title": title, "picks": picks}
                for sid, title, picks in res.anticipated
            ],
        }
    }
