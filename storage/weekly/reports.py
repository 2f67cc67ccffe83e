"""Four-grid reports: one per release, open for ballots until it closes, then its results are
posted. The rules of when a report takes ballots belong to the weekly feature (`cogs.weekly`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.util import insert_ignore
from storage.weekly.schema import REPORT_CLOSED, REPORT_OPEN
from storage.weekly.schema import fourgrid_reports as reports


@dataclass(frozen=True)
class ReportRow:
    id: int
    community_id: int
    release_id: int
    period: str
    status: str
    labels: list[str] | None
    opened_by: int | None
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    results_posted_at: datetime | None
    award_item_id: int | None
    reopened: int = 0  # times reopened after closing: its results are posted once per round


def _report(m: Any) -> ReportRow:
    return ReportRow(
        id=m["id"],
        community_id=m["community_id"],
        release_id=m["release_id"],
        period=m["period"],
        status=m["status"],
        labels=list(m["labels"]) if m["labels"] else None,
        opened_by=m["opened_by"],
        opened_at=m["opened_at"],
        closes_at=m["closes_at"],
        closed_at=m["closed_at"],
        results_posted_at=m["results_posted_at"],
        award_item_id=m["award_item_id"],
        reopened=int(m["reopened"] or 0),
    )


class ReportRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def open(
        self,
        community_id: int,
        release_id: int,
        period: str,
        labels: list[str] | None,
        opened_by: int | None,
        now: datetime,
        closes_at: datetime,
    ) -> ReportRow | None:
        """Open the release's report; None when it already has one (one per release, ever)."""
        async with self.engine.begin() as conn:
            added = await insert_ignore(
                conn,
                reports,
                {
                    "community_id": community_id,
                    "release_id": release_id,
                    "period": period,
                    "status": REPORT_OPEN,
                    "labels": labels,
                    "opened_by": opened_by,
                    "opened_at": now,
                    "closes_at": closes_at,
                },
            )
        if not added:
            return None
        return await self.for_release(release_id)

    async def get(self, community_id: int, report_id: int) -> ReportRow | None:
        return await self._one(
            (reports.c.id == report_id) & (reports.c.community_id == community_id)
        )

    async def by_id(self, report_id: int) -> ReportRow | None:
        return await self._one(reports.c.id == report_id)

    async def for_release(self, release_id: int) -> ReportRow | None:
        return await self._one(reports.c.release_id == release_id)

    async def current(self, community_id: int) -> ReportRow | None:
        """The community's open report, if any (the newest when several are open)."""
        rows = await self._many(
            (reports.c.community_id == community_id) & (reports.c.status == REPORT_OPEN), limit=1
        )
        return rows[0] if rows else None

    async def latest(self, community_id: int, status: str | None = None) -> ReportRow | None:
        cond = reports.c.community_id == community_id
        if status:
            cond = cond & (reports.c.status == status)
        rows = await self._many(cond, limit=1)
        return rows[0] if rows else None

    async def due_to_close(self, now: datetime) -> list[ReportRow]:
        return await self._many((reports.c.status == REPORT_OPEN) & (reports.c.closes_at <= now))

    async def unpublished(self) -> list[ReportRow]:
        return await self._many(
            (reports.c.status == REPORT_CLOSED) & reports.c.results_posted_at.is_(None)
        )

    async def close(self, report_id: int, now: datetime) -> bool:
        """Close an open report; True only for the one caller that closed it."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(reports)
                .where(reports.c.id == report_id, reports.c.status == REPORT_OPEN)
                .values(status=REPORT_CLOSED, closed_at=now)
            )
            return bool(res.rowcount)

    async def reopen(self, report_id: int, closes_at: datetime) -> bool:
        """Take ballots again until `closes_at`; its results are posted anew when it closes.
        True only for the one caller that reopened it."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(reports)
                .where(reports.c.id == report_id, reports.c.status == REPORT_CLOSED)
                .values(
                    status=REPORT_OPEN,
                    closes_at=closes_at,
                    closed_at=None,
                    results_posted_at=None,
                    award_item_id=None,
                    reopened=reports.c.reopened + 1,
                )
            )
            return bool(res.rowcount)

    async def mark_published(
        self, report_id: int, award_item_id: int | None, now: datetime
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(reports)
                .where(reports.c.id == report_id)
                .values(results_posted_at=now, award_item_id=award_item_id)
            )

    async def closed_before(self, community_id: int, report_id: int, limit: int) -> list[ReportRow]:
        """Earlier closed reports of the community, newest first (for the turnout trend)."""
        return await self._many(
            (reports.c.community_id == community_id)
            & (reports.c.status == REPORT_CLOSED)
            & (reports.c.id < report_id),
            limit=limit,
        )

    async def in_periods(
        self, community_id: int, periods: Collection[str]
    ) -> list[tuple[int, str]]:
        """(id, period) of the community's reports opened in those periods, oldest first."""
        if not periods:
            return []
        stmt = (
            select(reports.c.id, reports.c.period)
            .where(reports.c.community_id == community_id, reports.c.period.in_(list(periods)))
            .order_by(reports.c.id)
        )
        async with self.engine.connect() as conn:
            return [(r.id, r.period) for r in await conn.execute(stmt)]

    async def published(self, community_id: int, limit: int) -> list[ReportRow]:
        """The community's closed reports whose results were posted, newest first."""
        return await self._many(
            (reports.c.community_id == community_id)
            & (reports.c.status == REPORT_CLOSED)
            & reports.c.results_posted_at.is_not(None),
            limit=limit,
        )

    async def _one(self, cond: Any) -> ReportRow | None:
        rows = await self._many(cond, limit=1)
        return rows[0] if rows else None

    async def _many(self, cond: Any, limit: int | None = None) -> list[ReportRow]:
        async with self.engine.connect() as conn:
            stmt = select(reports).where(cond).order_by(reports.c.id.desc())
            if limit:
                stmt = stmt.limit(limit)
            r = await conn.execute(stmt)
            return [_report(m) for m in r.mappings()]
