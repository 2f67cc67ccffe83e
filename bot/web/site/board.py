"""The board of a community, ranked once and kept in memory: every request pages through the
kept rankings instead of ranking 100,000 suggestions again.

A snapshot holds the open, visible suggestions (light: id, status, category, votes) in the
three orders of the board (heat, votes, newest), as `SuggestionService.board` ranks them (the
order of /top); a page reads its 25 suggestions' text afresh, so one hidden since is left out.
Heat decays by the same factor for every vote as time passes, so the order by heat only changes
when the data does. Whether it did is asked of the database (`board_signature`: count, vote
total, newest id, last update) at most every `check_every` seconds, in the background:
requests never wait for it, and a vote, a merge or a status shows after one check and one
rebuild (a few seconds). With `check_every` 0 (tests) each request checks first.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from cogs.suggestions.service import SuggestionService
from cogs.suggestions.status import OPEN_STATUSES
from storage.suggestions.posts import BoardEntry, BoardSignature

log = logging.getLogger(__name__)

SORTS = ("heat", "votes", "newest")
STATUSES: tuple[str, ...] = tuple(str(s) for s in OPEN_STATUSES)
# Rebuilt at least this often even when nothing changed (the heat figures shown move).
REBUILD_EVERY = 300.0
REBUILD_GAP = 10.0


@dataclass(frozen=True)
class Snapshot:
    """A ranked board in flat arrays (no object per suggestion, nothing for the garbage
    collector to walk): position i of the heat order is suggestion `ids[i]`, with `heat[i]`,
    status `STATUSES[status[i]]` and category `categories[category[i]]` (-1: none). The other
    orders are arrays of those positions."""

    signature: BoardSignature
    half_life_days: int
    built_at: float
    ids: array[int]
    heat: array[float]
    status: array[int]
    category: array[int]
    categories: tuple[str, ...]
    orders: dict[str, array[int]]
    counts: dict[tuple[str | None, str | None], int] = field(default_factory=dict)
    version: str = ""

    def page(
        self, sort: str, status: str | None, category: str | None, offset: int, limit: int
    ) -> tuple[list[tuple[int, float]], int]:
        """One page of the board in `sort` order, filtered, as (id, heat); and how many match
        in all."""
        total = self.counts.get((status, category), 0)
        order = self.orders.get(sort)
        if order is None:  # "heat": the positions themselves
            positions: Iterable[int] = range(len(self.ids))
        else:
            positions = order
        if status is None and category is None:
            if order is None:
                chosen: Iterable[int] = range(offset, min(offset + limit, len(self.ids)))
            else:
                chosen = order[offset : offset + limit]
            return [(self.ids[i], self.heat[i]) for i in chosen], total
        want_status = STATUSES.index(status) if status in STATUSES else None
        if status is not None and want_status is None:
            return [], 0
        want_category = -2
        if category is not None:
            if category not in self.categories:
                return [], 0
            want_category = self.categories.index(category)
        out: list[tuple[int, float]] = []
        skip = offset
        for i in positions:
            if (want_status is None or self.status[i] == want_status) and (
                want_category == -2 or self.category[i] == want_category
            ):
                if skip:
                    skip -= 1
                    continue
                out.append((self.ids[i], self.heat[i]))
                if len(out) == limit:
                    break
        return out, total


class BoardCache:
    def __init__(
        self,
        suggestions: SuggestionService,
        *,
        check_every: float = 2.0,
        rebuild_gap: float | None = None,
    ) -> None:
        self.suggestions = suggestions
        self.check_every = check_every
        # The least time between two rankings of one board (a large one costs a second or two
        # of work); the vote counts shown are read afresh for every page meanwhile.
        self.rebuild_gap = REBUILD_GAP if rebuild_gap is None else rebuild_gap
        if check_every <= 0:
            self.rebuild_gap = 0.0
        self._snapshots: dict[int, Snapshot] = {}
        self._checked: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._checking: dict[int, asyncio.Task[None]] = {}

    async def get(self, community_id: int, half_life_days: int) -> Snapshot:
        snap = self._snapshots.get(community_id)
        if snap is None or snap.half_life_days != half_life_days:
            return await self._build(community_id, half_life_days, stale=snap)
        if time.monotonic() - self._checked.get(community_id, 0.0) >= self.check_every:
            if self.check_every <= 0:
                await self._check(community_id, half_life_days)
                return self._snapshots[community_id]
            task = self._checking.get(community_id)
            if task is None or task.done():
                self._checked[community_id] = time.monotonic()
                self._checking[community_id] = asyncio.create_task(
                    self._check(community_id, half_life_days), name=f"board-check-{community_id}"
                )
        return snap

    async def rebuild(self, community_id: int, half_life_days: int) -> Snapshot:
        """Rank the board again now (what a change leads to, in the background)."""
        return await self._build(
            community_id, half_life_days, stale=self._snapshots.get(community_id)
        )

    async def close(self) -> None:
        tasks = [t for t in self._checking.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _check(self, community_id: int, half_life_days: int) -> None:
        try:
            snap = self._snapshots.get(community_id)
            if snap is not None and time.monotonic() - snap.built_at < self.rebuild_gap:
                self._checked[community_id] = snap.built_at + self.rebuild_gap - self.check_every
                return  # ranked a moment ago: looked at again once the gap has passed
            signature = await self.suggestions.repo.board_signature(community_id)
            self._checked[community_id] = time.monotonic()
            if (
                snap is None
                or snap.signature != signature
                or time.monotonic() - snap.built_at > REBUILD_EVERY
            ):
                await self._build(community_id, half_life_days, stale=snap)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not bring the board of community %s up to date", community_id)

    async def _build(
        self, community_id: int, half_life_days: int, stale: Snapshot | None
    ) -> Snapshot:
        lock = self._locks.setdefault(community_id, asyncio.Lock())
        async with lock:
            now = self._snapshots.get(community_id)
            if now is not None and now is not stale and now.half_life_days == half_life_days:
                return now  # built by another request meanwhile
            signature = await self.suggestions.repo.board_signature(community_id)
            by_heat = await self.suggestions.board(community_id, timedelta(days=half_life_days))
            digest = hashlib.sha1(repr((signature, half_life_days)).encode(), usedforsecurity=False)
            snap = await asyncio.to_thread(
                _flatten, by_heat, signature, half_life_days, digest.hexdigest()[:12]
            )
            self._snapshots[community_id] = snap
            self._checked[community_id] = time.monotonic()
            return snap


def _flatten(
    by_heat: list[tuple[BoardEntry, float]],
    signature: BoardSignature,
    half_life_days: int,
    version: str,
) -> Snapshot:
    """The snapshot of a ranking, in a worker thread."""
    names = sorted({e.category for e, _ in by_heat if e.category})
    code = {name: i for i, name in enumerate(names)}
    ids = array("q", (e.id for e, _ in by_heat))
    votes = [e.votes for e, _ in by_heat]
    status = array("b", (STATUSES.index(e.status) for e, _ in by_heat))
    category = array("l", (code[e.category] if e.category else -1 for e, _ in by_heat))
    newest = sorted(range(len(ids)), key=ids.__getitem__, reverse=True)
    by_votes = sorted(newest, key=votes.__getitem__, reverse=True)  # stable: newer first
    counts: Counter[tuple[str | None, str | None]] = Counter()
    for entry, _ in by_heat:
        for st in (None, entry.status):
            for cat in (None, entry.category) if entry.category else (None,):
                counts[(st, cat)] += 1
    return Snapshot(
        signature,
        half_life_days,
        time.monotonic(),
        ids,
        array("d", (h for _, h in by_heat)),
        status,
        category,
        tuple(names),
        {"votes": array("l", by_votes), "newest": array("l", newest)},
        dict(counts),
        version,
    )
