"""Four-grid results: items ranked by the Wilson lower bound of "love it" among those who tried
them, the ones too many found not good enough, and the popcorn award (the best of the others).
Pure functions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cogs.weekly.fourgrid import Grid

Z_95 = 1.959963984540054  # two-sided 95 %


def wilson_lower(successes: int, trials: int, z: float = Z_95) -> float:
    """Lower bound of the Wilson score interval for a proportion: ranks a 9-of-10 item below a
    900-of-1000 one, which raw shares would not."""
    if trials <= 0:
        return 0.0
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and trials")
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt((p * (1 - p) + z2 / (4 * trials)) / trials)
    return max(0.0, (centre - margin) / (1 + z2 / trials))


@dataclass(frozen=True)
class ItemInput:
    item_id: int
    position: int
    title: str
    suggestion_id: int | None
    counts: tuple[int, int, int, int]  # love, fine, bad, untried


@dataclass(frozen=True)
class ItemResult:
    item_id: int
    position: int
    title: str
    suggestion_id: int | None
    counts: tuple[int, int, int, int]

    @property
    def tried(self) -> int:
        return self.counts[Grid.LOVE] + self.counts[Grid.FINE] + self.counts[Grid.BAD]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def love_share(self) -> float:
        return self.counts[Grid.LOVE] / self.tried if self.tried else 0.0

    @property
    def bad_share(self) -> float:
        return self.counts[Grid.BAD] / self.tried if self.tried else 0.0

    @property
    def score(self) -> float:
        return wilson_lower(self.counts[Grid.LOVE], self.tried)


@dataclass(frozen=True)
class Ranking:
    ranked: list[ItemResult]  # best first
    not_good_enough: list[ItemResult]  # worst first
    award: ItemResult | None


def rank(items: Sequence[ItemInput], *, threshold_percent: int, min_ballots: int) -> Ranking:
    results = [ItemResult(i.item_id, i.position, i.title, i.suggestion_id, i.counts) for i in items]
    ranked = sorted(results, key=lambda r: (-r.score, -r.tried, r.position))
    flagged = sorted(
        (r for r in results if r.tried and 100 * r.counts[Grid.BAD] >= threshold_percent * r.tried),
        key=lambda r: (-r.bad_share, -r.tried, r.position),
    )
    # The award goes to the best item that too many did not find wanting: an item listed as
    # "not good enough" is never also the week's best.
    flagged_ids = {r.item_id for r in flagged}
    top = next((r for r in ranked if r.item_id not in flagged_ids), None)
    award = top if top is not None and top.tried >= min_ballots and top.counts[Grid.LOVE] else None
    return Ranking(ranked, flagged, award)
