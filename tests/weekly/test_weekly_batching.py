"""Group commit changes no outcome: the same presses written in batches and written one
transaction each leave the same ballots (grades, first and last times), the same results and
the same answer to every press, on both databases. Presses include a fan changing a grade twice
within one batch, a press just before and just after the report's closing time, an item of
another report and a press naming another community."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Receipt
from bot.core.errors import UserError
from cogs.weekly.ballot_batcher import BallotBatcher
from cogs.weekly.commands import grade_button
from storage.platform.schema import processed_events
from storage.weekly.ballots import Ballot
from storage.weekly.schema import fourgrid_ballots
from tests.weekly.weekly_helpers import member, open_report, release, weekly

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_space = iter(range(10**9))
FANS = 4
ITEMS = 3

# How the batched copy cuts the presses into transactions (sizes, cycled).
cuts = st.lists(st.integers(1, 12), min_size=1, max_size=4)


@dataclass
class Copy:
    """One community with its fans, a release of ITEMS items and its open report."""

    community: int
    report: int
    closes_at: Any
    items: list[int]
    fans: list[int]
    foreign_item: int = 0


async def _copy(app: App) -> Copy:
    space = f"batching-{next(_space)}"
    boss = await member(app, "boss", Role.ADMIN, space=space)
    fans = [(await member(app, f"f{i}", space=space)).member.account_id for i in range(FANS)]
    row = await release(app, boss, "v1", [f"item {i}" for i in range(ITEMS)])
    report = await open_report(app, row, boss)
    items = [i.id for i in await weekly(app).items(row.id)]
    return Copy(boss.community.id, report.id, report.closes_at, items, fans)


async def _pair(app: App) -> tuple[Copy, Copy]:
    one, other = await _copy(app), await _copy(app)
    one.foreign_item, other.foreign_item = other.items[0], one.items[0]
    return one, other


def _ballots(copy: Copy, sequence: list[tuple[int, int, int, int, bool]]) -> list[Ballot]:
    out = []
    for fan, item, grid, before, elsewhere in sequence:
        out.append(
            Ballot(
                copy.community + (10**6 if elsewhere else 0),
                copy.report,
                copy.items[item] if item < ITEMS else copy.foreign_item,
                copy.fans[fan],
                grid,
                copy.closes_at - timedelta(seconds=before),
            )
        )
    return out


async def _stored(app: App, copy: Copy) -> dict[tuple[int, int], tuple[Any, ...]]:
    """(fan, item) by position → (grid, created_at, updated_at)."""
    t = fourgrid_ballots
    async with app.engine.connect() as conn:
        rows = await conn.execute(
            select(t.c.account_id, t.c.item_id, t.c.grid, t.c.created_at, t.c.updated_at).where(
                t.c.report_id == copy.report
            )
        )
        return {
            (copy.fans.index(r.account_id), copy.items.index(r.item_id)): (
                r.grid,
                r.created_at,
                r.updated_at,
            )
            for r in rows
        }


async def _results(app: App, copy: Copy) -> tuple[Any, ...]:
    repo = weekly(app).ballots
    tallies = await repo.tallies(copy.report)
    by_position = {copy.items.index(item): counts for item, counts in tallies.items()}
    participations = {
        copy.fans.index(p.account_id): p.at
        for p in await repo.participations(copy.community, None)
        if p.report_id == copy.report
    }
    return by_position, await repo.turnout(copy.report), participations


def _chunks(items: list[Ballot], sizes: list[int]) -> list[list[Ballot]]:
    out, start, n = [], 0, 0
    while start < len(items):
        size = sizes[n % len(sizes)]
        out.append(items[start : start + size])
        start, n = start + size, n + 1
    return out


# (fan, item — ITEMS: an item of another report —, grid, seconds before the closing time — 0
# or less: at or after it —, the press names another community)
fan_press = st.tuples(
    st.integers(0, FANS - 1),
    st.integers(0, ITEMS),
    st.integers(0, 3),
    st.sampled_from([3600, 3600, 3600, 60, 1, 0, -1]),
    st.booleans(),
)


@PROPERTY
@given(sequence=st.lists(fan_press, min_size=1, max_size=30), sizes=cuts)
# A fan changes a grade twice within one batch (and another fan's ballot in between).
@example(
    sequence=[
        (0, 0, 0, 3600, False),
        (1, 0, 2, 3600, False),
        (0, 0, 1, 60, False),
        (0, 0, 3, 1, False),
    ],
    sizes=[4],
)
# The same fan and item before and after the closing time within one batch: the first counts.
@example(sequence=[(2, 1, 0, 60, False), (2, 1, 3, 0, False), (2, 1, 2, -1, False)], sizes=[3])
async def test_batches_write_what_one_transaction_each_writes(
    app: App, sequence: list[tuple[int, int, int, int, bool]], sizes: list[int]
) -> None:
    one_by_one, batched = await _pair(app)
    repo = weekly(app).ballots
    answers_one = [await repo.cast(b) for b in _ballots(one_by_one, sequence)]
    answers_batched: list[bool] = []
    async with repo.writer() as writer:
        for chunk in _chunks(_ballots(batched, sequence), sizes):
            answers_batched += await writer.cast_many(chunk)
    assert answers_batched == answers_one
    assert await _stored(app, batched) == await _stored(app, one_by_one)
    assert await _results(app, batched) == await _results(app, one_by_one)


def _outcome(result: BaseException | None) -> str:
    if result is None:
        return "recorded"
    assert isinstance(result, UserError), result
    return result.key


@PROPERTY
@given(
    sequence=st.lists(
        st.tuples(st.integers(0, FANS - 1), st.integers(0, ITEMS), st.integers(0, 3)),
        min_size=1,
        max_size=40,
    ),
    max_batch=st.integers(1, 16),
)
@example(sequence=[(0, 0, 0), (0, 0, 1), (0, 0, 2)], max_batch=16)
async def test_presses_in_flight_get_the_answers_of_presses_one_at_a_time(
    app: App, sequence: list[tuple[int, int, int]], max_batch: int
) -> None:
    """Through the service: many presses in flight at once (batched by the group commit) get
    the same answers, and leave the same ballots, as the same presses one after the other."""
    one_by_one, batched = await _pair(app)
    svc = weekly(app)

    def press(copy: Copy, fan: int, item: int, grid: int) -> Any:
        target = copy.items[item] if item < ITEMS else copy.foreign_item
        return svc.cast(copy.community, copy.report, target, copy.fans[fan], grid)

    answers_one = []
    for fan, item, grid in sequence:
        try:
            answers_one.append(_outcome(await press(one_by_one, fan, item, grid)))
        except UserError as exc:
            answers_one.append(_outcome(exc))
    svc.batcher = BallotBatcher(svc.ballots, max_batch=max_batch)
    results = await asyncio.gather(*(press(batched, *p) for p in sequence), return_exceptions=True)
    assert [_outcome(r) for r in results] == answers_one
    assert await _stored(app, batched) == await _stored(app, one_by_one)
    assert await _results(app, batched) == await _results(app, one_by_one)


async def test_a_press_records_its_delivery_with_the_ballot(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    fan = await member(app, "fan")
    row = await release(app, boss, "v1", ["A", "B"])
    report = await open_report(app, row, boss)
    a, _b = await weekly(app).items(row.id)
    fan.receipt = Receipt("telegram", "update:41")
    await grade_button(fan, [str(report.id), str(a.id), "0"])
    assert fan.receipt_recorded
    async with app.engine.connect() as conn:
        rows = (
            await conn.execute(select(processed_events.c.platform, processed_events.c.event_id))
        ).all()
    assert ("telegram", "update:41") in [tuple(r) for r in rows]
    assert await weekly(app).mine(report.id, fan.member.account_id) == ({a.id: 0}, None)
    # A redelivery of the same press changes nothing and is answered the same.
    again = await member(app, "fan")
    again.receipt = Receipt("telegram", "update:41")
    await grade_button(again, [str(report.id), str(a.id), "0"])
    assert await weekly(app).ballots.tallies(report.id) == {a.id: [1, 0, 0, 0]}
