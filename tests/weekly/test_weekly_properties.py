"""Invariants of the four-grid report, on both databases: one ballot per account per item (the
latest choice counts), and a linked person counts once after their accounts are merged."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.context import Context
from storage.weekly.releases import ItemRow
from storage.weekly.reports import ReportRow
from tests.weekly.weekly_helpers import member, open_report, release, weekly

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_space = iter(range(10**9))

casts = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=40
)


async def _report(app: App, n_members: int) -> tuple[list[Context], ReportRow, list[ItemRow]]:
    space = f"prop-{next(_space)}"
    boss = await member(app, "boss", Role.ADMIN, space=space)
    people = [await member(app, f"m{i}", space=space) for i in range(n_members)]
    row = await release(app, boss, "v1", ["A", "B", "C"])
    report = await open_report(app, row, boss)
    return people, report, await weekly(app).items(row.id)


@PROPERTY
@given(sequence=casts)
async def test_latest_choice_counts_once(app: App, sequence: list[tuple[int, int, int]]) -> None:
    people, report, items = await _report(app, 5)
    svc = weekly(app)
    model: dict[tuple[int, int], int] = {}
    for who, which, grid in sequence:
        acc, item = people[who].member.account_id, items[which].id
        await svc.cast(people[who].community.id, report.id, item, acc, grid)
        model[(acc, item)] = grid
    expected: dict[int, list[int]] = {}
    for (_acc, item), grid in model.items():
        expected.setdefault(item, [0, 0, 0, 0])[grid] += 1
    assert await svc.ballots.tallies(report.id) == expected
    assert await svc.ballots.turnout(report.id) == len({acc for acc, _ in model})


@PROPERTY
@given(
    first=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=6),
    second=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=6),
    order=st.lists(st.booleans(), min_size=12, max_size=12),
)
async def test_merging_accounts_keeps_one_ballot_per_item(
    app: App,
    first: list[tuple[int, int]],
    second: list[tuple[int, int]],
    order: list[bool],
) -> None:
    clock = app.clock
    assert isinstance(clock, FakeClock)
    people, report, items = await _report(app, 3)
    svc = weekly(app)
    keep, gone, other = (p.member.account_id for p in people)
    cid = people[0].community.id
    await svc.cast(cid, report.id, items[0].id, other, 1)
    queue = [(keep, c) for c in first] + [(gone, c) for c in second]
    latest: dict[int, int] = {}
    # Interleave the two accounts' ballots in a random order, one minute apart.
    a, b = [q for q in queue if q[0] == keep], [q for q in queue if q[0] == gone]
    for pick_first in order:
        source = a if (pick_first and a) or not b else b
        if not source:
            break
        acc, (which, grid) = source.pop(0)
        clock.advance(timedelta(minutes=1))
        await svc.cast(cid, report.id, items[which].id, acc, grid)
        latest[items[which].id] = grid
    async with app.engine.begin() as conn:
        for merger in app.account_mergers:
            await merger(conn, gone, keep)
    mine, _ = await svc.mine(report.id, keep)
    assert mine == latest
    assert await svc.mine(report.id, gone) == ({}, None)
    tallies = await svc.ballots.tallies(report.id)
    assert sum(map(sum, tallies.values())) == len(latest) + 1
