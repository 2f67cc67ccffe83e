"""Ranking members by points. Ties: members with the same points share a rank (1, 2, 2, 4), and
are listed by who reached those points first (then by account). The database sorts the same way
(`LedgerRepo.leaders`), so ranking its top rows gives their true ranks; picking the top N for a
reward takes that order too, so exactly N are chosen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.participation.ledger import Total


@dataclass(frozen=True)
class Ranked:
    rank: int
    account_id: int
    points: int
    reached_at: datetime


def rank(totals: Iterable[Total]) -> list[Ranked]:
    rows = sorted(
        (t for t in totals if t.points > 0),
        key=lambda t: (-t.points, t.reached_at, t.account_id),
    )
    out: list[Ranked] = []
    for i, t in enumerate(rows):
        shared = out and out[-1].points == t.points
        out.append(Ranked(out[-1].rank if shared else i + 1, t.account_id, t.points, t.reached_at))
    return out
