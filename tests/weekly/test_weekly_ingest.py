"""Group commit: concurrent ballots share transactions, each caller still gets its own answer,
and one failing ballot does not fail the others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from bot.core.app import App
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.weekly.ballot_batcher import BallotBatcher
from storage.weekly.ballots import Ballot, BallotRepo, BallotWriter
from tests.weekly.weekly_helpers import member, open_report, release, weekly


class CountingWriter(BallotWriter):
    """The real writer, counting the transactions it writes."""

    transactions = 0

    async def cast_many(self, batch: Sequence[Ballot]) -> list[bool]:
        CountingWriter.transactions += 1
        return await super().cast_many(batch)


class CountingRepo(BallotRepo):
    @contextlib.asynccontextmanager
    async def writer(self) -> AsyncIterator[BallotWriter]:
        async with super().writer() as writer:
            yield CountingWriter(writer.conn, self._stamp)


async def _accounts(app: App, n: int) -> list[int]:
    return [(await member(app, f"fan{i}")).member.account_id for i in range(n)]


async def test_concurrent_ballots_share_transactions(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    row = await release(app, boss, "v1", ["A", "B"])
    report = await open_report(app, row, boss)
    a, b = await weekly(app).items(row.id)
    people = await _accounts(app, 60)
    CountingWriter.transactions = 0
    repo = CountingRepo(app.engine)
    svc = weekly(app)
    svc.batcher = BallotBatcher(repo, max_batch=50)
    cid = boss.community.id
    await asyncio.gather(
        *(svc.cast(cid, report.id, item.id, acc, acc % 4) for acc in people for item in (a, b))
    )
    assert 3 <= CountingWriter.transactions < 20  # 120 ballots, at most 50 a transaction
    tallies = await svc.ballots.tallies(report.id)
    assert sum(map(sum, tallies.values())) == 120
    assert tallies[a.id] == [sum(1 for p in people if p % 4 == g) for g in range(4)]


async def test_each_caller_gets_its_own_answer(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    fan = await member(app, "fan")
    first = await release(app, boss, "v1", ["A"])
    closed = await open_report(app, first, boss)
    await weekly(app).close(closed)
    second = await release(app, boss, "v2", ["B"])
    report = await open_report(app, second, boss)
    (old,) = await weekly(app).items(first.id)
    (new,) = await weekly(app).items(second.id)
    svc, cid, acc = weekly(app), boss.community.id, fan.member.account_id
    results = await asyncio.gather(
        svc.cast(cid, report.id, new.id, acc, 0),
        svc.cast(cid, closed.id, old.id, acc, 0),  # that report is closed
        svc.cast(cid, report.id, old.id, acc, 0),  # not an item of this report
        svc.cast(cid, report.id, new.id, boss.member.account_id, 1),
        return_exceptions=True,
    )
    assert results[0] is None and results[3] is None
    assert isinstance(results[1], UserError) and results[1].key == "fourgrid.closed"
    assert isinstance(results[2], UserError) and results[2].key == "fourgrid.bad_item"
    assert await svc.ballots.tallies(report.id) == {new.id: [1, 1, 0, 0]}


async def test_one_failing_ballot_does_not_fail_the_batch(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    row = await release(app, boss, "v1", ["A"])
    report = await open_report(app, row, boss)
    (a,) = await weekly(app).items(row.id)
    people = await _accounts(app, 20)
    svc, cid = weekly(app), boss.community.id
    ghost = 10**8  # no such account: the database refuses the row
    results = await asyncio.gather(
        *(svc.cast(cid, report.id, a.id, acc, 1) for acc in [*people[:10], ghost, *people[10:]]),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and not isinstance(failures[0], UserError)
    assert await svc.ballots.tallies(report.id) == {a.id: [0, 20, 0, 0]}
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        await svc.cast(cid, report.id, a.id, ghost, 1)
