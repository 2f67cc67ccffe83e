"""Leaderboard periods, computed in the community's time zone: weeks start on Monday 00:00 and
months on the 1st at 00:00 local time (daylight saving included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodName(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"
    LAST_WEEK = "last_week"
    LAST_MONTH = "last_month"

    @property
    def family(self) -> PeriodName:
        """The kind of period: this or last week is a week, this or last month a month."""
        if self in (PeriodName.WEEK, PeriodName.LAST_WEEK):
            return PeriodName.WEEK
        if self in (PeriodName.MONTH, PeriodName.LAST_MONTH):
            return PeriodName.MONTH
        return PeriodName.ALL


PERIODS = tuple(PeriodName)


@dataclass(frozen=True)
class Period:
    name: str
    start: datetime | None  # UTC, inclusive; None: the beginning
    end: datetime | None  # UTC, exclusive; None: now and on
    first_day: date | None  # local dates, for labels
    last_day: date | None

    @property
    def key(self) -> str:
        """Stable identity of the period ("2026-11-16"), for one-time work about it."""
        return self.first_day.isoformat() if self.first_day else "all"

    def contains(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period(name: str, now: datetime, tz: ZoneInfo) -> Period:
    if name not in PERIODS:
        raise ValueError(f"unknown period {name!r}")
    if name == PeriodName.ALL:
        return Period(name, None, None, None, None)
    today = now.astimezone(tz).date()
    if PeriodName(name).family == PeriodName.WEEK:
        first = today - timedelta(days=today.weekday())
        if name == PeriodName.LAST_WEEK:
            first -= timedelta(days=7)
        after = first + timedelta(days=7)
    else:
        first = _month_start(today)
        if name == PeriodName.LAST_MONTH:
            first = _month_start(first - timedelta(days=1))
        after = _next_month(first)
    return Period(
        name, _midnight(first, tz), _midnight(after, tz), first, after - timedelta(days=1)
    )
