"""The weekly loop's rules: releases, the four-grid report's life (open, ballots, close) and its
results. Chat-free: commands, the schedule and the announcements build on it."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.commands import parse_int
from bot.core.context import Receipt
from bot.core.errors import UserError
from bot.core.participation import Contribution
from bot.core.services import ServiceRegistry
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.status import SuggestionStatus, is_open
from cogs.weekly.ballot_batcher import BallotBatcher
from cogs.weekly.config import WeeklyConfig
from cogs.weekly.fourgrid import Grid, ReportStatus, accepts_ballots
from cogs.weekly.ranking import ItemInput, ItemResult, Ranking, rank
from storage.weekly.ballots import Ballot, BallotRepo
from storage.weekly.digest_subscribers import DigestSubscribersRepo
from storage.weekly.releases import ItemRow, ReleaseRepo, ReleaseRow, VersionTaken
from storage.weekly.reports import ReportRepo, ReportRow

log = logging.getLogger(__name__)

MAX_ITEMS = 25
GRIDS = len(Grid)
TREND_WEEKS = 8


def iso_period(when: datetime, tz: ZoneInfo) -> str:
    """The ISO week of a moment in the community's time zone: "2026-W48"."""
    year, week, _ = when.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Results:
    report: ReportRow
    release: ReleaseRow
    items: list[ItemResult]  # in release order
    ranking: Ranking
    anticipated: list[tuple[int, str, int]]  # suggestion id, title, picks
    turnout: int
    trend: list[tuple[str, int]]  # (period label, turnout), oldest first, this report last

    @property
    def period(self) -> str:
        """This report's period as shown: "2026-W48", or "2026-W48 #2" for a week's second."""
        return self.trend[-1][0]


class WeeklyService:
    def __init__(
        self,
        releases: ReleaseRepo,
        reports: ReportRepo,
        ballots: BallotRepo,
        clock: Clock,
        services: ServiceRegistry,
    ) -> None:
        self.releases = releases
        self.reports = reports
        self.ballots = ballots
        self.digest_subscribers = DigestSubscribersRepo(ballots.engine)
        self.clock = clock
        self._services = services
        self.batcher = BallotBatcher(ballots)

    def suggestions(self) -> SuggestionService | None:
        return self._services.find(SuggestionService)

    # -- releases ----------------------------------------------------------------------------

    async def record_release(
        self,
        community_id: int,
        version: str,
        released_on: date,
        items: list[int | str],
        actor: int,
    ) -> ReleaseRow:
        """Record what shipped: suggestion ids (their titles are kept) and free-text features."""
        version = version.strip()
        if not items:
            raise UserError("release.no_items")
        if len(items) > MAX_ITEMS:
            raise UserError("release.too_many_items", max=MAX_ITEMS)
        if await self.releases.by_version(community_id, version):
            raise UserError("release.version_taken", version=version)
        resolved: list[tuple[int | None, str]] = []
        seen: set[int] = set()
        for item in items:
            if isinstance(item, str):
                resolved.append((None, item))
                continue
            svc = self.suggestions()
            if svc is None:
                raise UserError("release.no_suggestions")
            row = await svc.get(community_id, item, include_hidden=True)
            if row.status == SuggestionStatus.DUPLICATE:
                raise UserError("release.item_duplicate", id=row.id, into=row.merged_into)
            if row.id in seen:
                raise UserError("release.item_twice", id=row.id)
            seen.add(row.id)
            resolved.append((row.id, row.title))
        try:
            return await self.releases.create(
                community_id, version, released_on, resolved, actor, self.clock.now()
            )
        except VersionTaken:
            raise UserError("release.version_taken", version=version) from None

    async def release(self, community_id: int, ref: str | None = None) -> ReleaseRow:
        """A release by version name or id ("v1.2", "#3"); the latest one without `ref`."""
        if ref is None:
            row = await self.releases.latest(community_id)
            if row is None:
                raise UserError("release.none")
            return row
        row = await self.releases.by_version(community_id, ref.strip())
        number = parse_int(ref)
        if row is None and number is not None:
            row = await self.releases.get(community_id, number)
        if row is None:
            raise UserError("release.unknown", ref=ref)
        return row

    async def items(self, release_id: int) -> list[ItemRow]:
        return await self.releases.items(release_id)

    # -- the four-grid report ----------------------------------------------------------------

    async def open_report(
        self,
        release: ReleaseRow,
        cfg: WeeklyConfig,
        tz: ZoneInfo,
        opened_by: int | None,
        now: datetime,
    ) -> ReportRow:
        current = await self.reports.current(release.community_id)
        if current is not None:
            if current.release_id == release.id:
                raise UserError("fourgrid.already_open")
            other = await self.releases.get(release.community_id, current.release_id)
            raise UserError("fourgrid.other_open", version=other.version if other else "?")
        period = iso_period(now, tz)
        report = await self.reports.open(
            release.community_id,
            release.id,
            period,
            cfg.labels,
            opened_by,
            now,
            now + cfg.duration,
        )
        if report is None:
            raise UserError("fourgrid.had_report", version=release.version)
        return report

    async def report(self, community_id: int, report_id: int) -> ReportRow:
        row = await self.reports.get(community_id, report_id)
        if row is None:
            raise UserError("fourgrid.unknown")
        return row

    async def current(self, community_id: int) -> ReportRow:
        row = await self.reports.current(community_id)
        if row is None:
            raise UserError("fourgrid.none_open")
        return row

    async def report_for(
        self, community_id: int, ref: str | None, *, closed: bool = False
    ) -> ReportRow:
        """The report of a release (by version), else the latest (closed) one."""
        if ref:
            release = await self.release(community_id, ref)
            row = await self.reports.for_release(release.id)
            if row is None:
                raise UserError("fourgrid.no_report", version=release.version)
            return row
        row = await self.reports.latest(community_id, ReportStatus.CLOSED if closed else None)
        if row is None:
            raise UserError("fourgrid.none")
        return row

    async def cast(
        self,
        community_id: int,
        report_id: int,
        item_id: int,
        account_id: int,
        grid: int,
        receipt: Receipt | None = None,
    ) -> None:
        """Put an item in a grid; returns once the ballot is committed. The write itself checks
        that the report (of this community) is open and the item is one of its items; only a
        refused ballot costs a second look. `receipt` (the delivery that carried the press) is
        recorded in the ballot's transaction."""
        if not 0 <= grid < GRIDS:
            raise UserError("fourgrid.bad_grid")
        now = self.clock.now()
        if receipt is None:
            ballot = Ballot(community_id, report_id, item_id, account_id, grid, now)
        else:
            ballot = Ballot(
                community_id,
                report_id,
                item_id,
                account_id,
                grid,
                now,
                (receipt.platform, receipt.event_id),
            )
        if await self.batcher.cast(ballot):
            return
        report = await self.report(community_id, report_id)
        if not accepts_ballots(report, now):
            raise UserError("fourgrid.closed")
        raise UserError("fourgrid.bad_item")

    async def anticipate(
        self, community_id: int, report_id: int, account_id: int, suggestion_id: int
    ) -> str:
        """Pick the open suggestion the fan most looks forward to; returns its title."""
        report = await self.report(community_id, report_id)
        if not accepts_ballots(report, self.clock.now()):
            raise UserError("fourgrid.closed")
        svc = self.suggestions()
        if svc is None:
            raise UserError("release.no_suggestions")
        row = await svc.get(community_id, suggestion_id)
        if not is_open(row.status):
            raise UserError("fourgrid.pick_not_open", id=row.id)
        if not await self.ballots.anticipate(report_id, account_id, row.id, self.clock.now()):
            raise UserError("fourgrid.closed")
        return row.title

    async def mine(self, report_id: int, account_id: int) -> tuple[dict[int, int], int | None]:
        return await self.ballots.mine(report_id, account_id)

    async def close(self, report: ReportRow) -> bool:
        """Close the report now; True for the one caller that closed it."""
        return await self.reports.close(report.id, self.clock.now())

    # -- results -----------------------------------------------------------------------------

    async def results(self, report: ReportRow, cfg: WeeklyConfig) -> Results:
        release = await self.releases.get(report.community_id, report.release_id)
        assert release is not None
        tallies = await self.ballots.tallies(report.id)
        inputs = [
            ItemInput(
                item.id,
                item.position,
                item.title,
                item.suggestion_id,
                _counts(tallies.get(item.id)),
            )
            for item in await self.releases.items(release.id)
        ]
        ranking = rank(inputs, threshold_percent=cfg.threshold, min_ballots=cfg.min_ballots)
        by_position = sorted(ranking.ranked, key=lambda r: r.position)
        earlier = await self.reports.closed_before(report.community_id, report.id, TREND_WEEKS - 1)
        chain = [*reversed(earlier), report]
        turnouts = await self.ballots.turnouts([r.id for r in chain])
        labels = await self.period_labels(report.community_id, chain)
        trend = [(labels[r.id], turnouts.get(r.id, 0)) for r in chain]
        return Results(
            report=report,
            release=release,
            items=by_position,
            ranking=ranking,
            anticipated=await self._anticipated(report),
            turnout=turnouts.get(report.id, 0),
            trend=trend,
        )

    async def period_labels(self, community_id: int, rows: list[ReportRow]) -> dict[int, str]:
        """Each report's period as shown. Two releases in one week each get a report: the first
        keeps its week ("2026-W48"), the next ones are numbered in opening order ("2026-W48 #2"),
        so a label never changes once shown."""
        seen: dict[str, int] = {}
        labels: dict[int, str] = {}
        for rid, period in await self.reports.in_periods(community_id, {r.period for r in rows}):
            seen[period] = seen.get(period, 0) + 1
            labels[rid] = period if seen[period] == 1 else f"{period} #{seen[period]}"
        return {r.id: labels.get(r.id, r.period) for r in rows}

    async def _anticipated(self, report: ReportRow) -> list[tuple[int, str, int]]:
        picks = await self.ballots.anticipated(report.id)
        svc = self.suggestions()
        out = []
        for sid, count in picks:
            title = f"#{sid}"
            if svc is not None:
                with contextlib.suppress(UserError):
                    title = (await svc.get(report.community_id, sid, include_hidden=True)).title
            out.append((sid, title, count))
        return out

    # -- participation -----------------------------------------------------------------------

    async def contributions(self, community_id: int, since: datetime | None) -> list[Contribution]:
        """One "report" contribution per fan per report they filled in."""
        return [
            Contribution(p.account_id, "report", p.at, str(p.report_id))
            for p in await self.ballots.participations(community_id, since)
        ]


def _counts(values: list[int] | None) -> tuple[int, int, int, int]:
    v = values or [0, 0, 0, 0]
    return (v[0], v[1], v[2], v[3])
