"""Heat: votes with time decay.

    heat(s) = Σ over the votes v of s of  2 ** (-(now - v.time) / half_life)

Every vote counts 1 when it is cast and half as much after each half-life (default 7 days,
the community setting `heat_half_life_days`). A suggestion with 10 votes this week outranks
one with 15 votes from two months ago; ties break by total votes, then by the newer id.
Carried-over votes keep the time they were cast, so a merge does not make old votes hot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta


def heat_scores(
    votes: Iterable[tuple[int, datetime]], now: datetime, half_life: timedelta
) -> dict[int, float]:
    hl = half_life.total_seconds()
    scores: dict[int, float] = defaultdict(float)
    for sid, at in votes:
        age = max(0.0, (now - at).total_seconds())
        scores[sid] += 2.0 ** (-age / hl)
    return dict(scores)


def heat_from_seconds(
    votes: Iterable[tuple[int, float]], now: float, half_life: timedelta
) -> dict[int, float]:
    """`heat_scores` with the times as seconds since 1970 (a large board's votes, read light)."""
    hl = half_life.total_seconds()
    scores: dict[int, float] = defaultdict(float)
    for sid, at in votes:
        scores[sid] += 2.0 ** (-max(0.0, now - at) / hl)
    return dict(scores)
