"""The four-grid report's domain: the four grids, a report's status, and when it takes ballots.

The database stores a grid as its number and a status as its value.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from storage.weekly.reports import ReportRow


class Grid(IntEnum):
    """Where a fan puts a feature; the numbers are the stored values (and the order shown)."""

    LOVE = 0  # love it
    FINE = 1
    BAD = 2  # not good enough
    UNTRIED = 3  # haven't tried

    @property
    def key(self) -> str:
        """The grid's name in message keys (`fourgrid.grid.<key>`) and in typed answers."""
        return self.name.lower()


class ReportStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def accepts_ballots(report: ReportRow, now: datetime) -> bool:
    """A report takes ballots while it is open and its closing time has not come."""
    return report.status == ReportStatus.OPEN and now < report.closes_at
