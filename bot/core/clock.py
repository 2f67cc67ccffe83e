"""Injected clocks: every time-dependent rule reads one, so tests control time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Parse '2d', '1h30m', '90m', '1w' into a timedelta; ValueError when it is not one."""
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    pos = 0
    total = timedelta(0)
    for match in _DURATION.finditer(text):
        if text[pos : match.start()].strip():
            raise ValueError(f"not a duration: {text!r}")
        total += timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """A duration as it is typed, the largest units first: 129600 → '1d12h', 90 → '1m30s'."""
    left = int(seconds)
    if left == 0:
        return "0s"
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts)


def local_time(dt: datetime, tz: tzinfo) -> str:
    """A time in a community's zone with its UTC offset, which no reader can misread (an
    abbreviation such as CST names three zones): '2026-12-01 20:00 UTC+8'."""
    try:
        local = dt.astimezone(tz)
    except OverflowError:  # a time at the calendar's end, stored before times were bounded
        return dt.strftime("%Y-%m-%d %H:%M UTC")
    return f"{local.strftime('%Y-%m-%d %H:%M')} {utc_offset(local)}"


def utc_offset(local: datetime) -> str:
    """An aware time's zone as its offset: 'UTC', 'UTC+8', 'UTC-3:30'."""
    minutes = int((local.utcoffset() or timedelta(0)).total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")
