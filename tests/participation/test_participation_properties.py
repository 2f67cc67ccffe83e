"""Points are derived from stored events: whatever happens and whenever the ledger syncs, the
incremental totals equal a recomputation from scratch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.context import Context
from bot.core.errors import UserError
from cogs.participation.ranking import rank
from cogs.suggestions.service import SuggestionService
from tests.helpers import member
from tests.participation.support import ListSource, service

PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_space = iter(range(10**9))

who = st.integers(0, 2)
which = st.integers(0, 2)
ANY_OP = st.one_of(
    st.tuples(st.just("post"), who),
    st.tuples(st.just("vote"), who, which),
    st.tuples(st.just("unvote"), who, which),
    st.tuples(
        st.just("status"),
        which,
        st.sampled_from(["new", "planned", "in_progress", "shipped", "declined"]),
        st.booleans(),  # moved by its own author
    ),
    st.tuples(st.just("hide"), which, st.booleans()),
    st.tuples(st.just("merge"), which, which),
    st.tuples(st.just("report"), who, st.integers(0, 4)),
    st.tuples(st.just("unreport"), who, st.integers(0, 4)),
    st.tuples(st.just("tick"), st.integers(1, 60 * 30)),
    st.tuples(st.just("sync")),
    st.tuples(st.just("reconcile")),
)
# Only additions: votes, suggestions moving forward, reports.
GROWING_OP = st.one_of(
    st.tuples(st.just("post"), who),
    st.tuples(st.just("vote"), who, which),
    st.tuples(st.just("forward"), which),
    st.tuples(st.just("report"), who, st.integers(0, 4)),
    st.tuples(st.just("tick"), st.integers(1, 60 * 30)),
    st.tuples(st.just("sync")),
)
RULES = st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 30))  # cap, vote, report
FORWARD = {"new": "planned", "planned": "in_progress", "in_progress": "shipped"}


class World:
    """One community, four fans and an admin, acting through the real suggestion service."""

    def __init__(self, app: App, clock: FakeClock, source: ListSource) -> None:
        self.app, self.clock, self.source = app, clock, source
        self.s = app.services.get(SuggestionService)
        self.fans: list[Context] = []
        self.ids: list[int] = []

    async def start(self, rules: tuple[int, int, int]) -> int:
        space = f"prop-{next(_space)}"
        self.fans = [await member(self.app, f"m{i}", space=space) for i in range(4)]
        self.admin = await member(self.app, "admin", Role.ADMIN, space=space)
        self.cid = self.fans[0].community.id
        self.source.community_id, self.source.items = self.cid, []
        cap, vote, report = rules
        for key, value in (("points_daily_cap", cap), ("points_vote", vote)):
            await self.app.community_settings.set(self.cid, key, str(value))
        await self.app.community_settings.set(self.cid, "points_report", str(report))
        return self.cid

    def acc(self, i: int) -> int:
        return self.fans[i].member.account_id

    async def do(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        cid = self.cid
        try:
            if kind == "post" and len(self.ids) < 4:
                sub = await self.s.submit(
                    cid, self.acc(op[1]), f"Idea {len(self.ids)}", "", None, force=True
                )
                assert sub.posted
                self.ids.append(sub.posted.id)
            elif kind == "tick":
                self.clock.advance(timedelta(minutes=op[1]))
            elif kind == "sync":
                await service(self.app).refresh(cid)
            elif kind == "reconcile":
                await service(self.app).reconcile(cid)
            elif kind == "report":
                self.source.add(self.acc(op[1]), "report", self.clock.now(), f"w{op[2]}")
            elif kind == "unreport":
                self.source.remove(self.acc(op[1]), "report", f"w{op[2]}")
            elif not self.ids:
                return
            elif kind == "vote":
                await self.s.vote(cid, self._sid(op[2]), self.acc(op[1]))
            elif kind == "unvote":
                await self.s.unvote(cid, self._sid(op[2]), self.acc(op[1]))
            elif kind == "status":
                sid = self._sid(op[1])
                actor = (await self.s.get(cid, sid, include_hidden=True)).author_id
                actor = actor if op[3] else self.admin.member.account_id
                await self.s.set_status(cid, sid, op[2], None, actor)
            elif kind == "forward":
                row = await self.s.get(cid, self._sid(op[1]), include_hidden=True)
                if row.status in FORWARD:
                    await self.s.set_status(
                        cid, row.id, FORWARD[row.status], None, self.admin.member.account_id
                    )
            elif kind == "hide":
                await self.s.set_hidden(cid, self._sid(op[1]), op[2], self.admin.member.account_id)
            elif kind == "merge":
                await self.s.merge(
                    cid, self._sid(op[1]), self._sid(op[2]), self.admin.member.account_id
                )
        except UserError:
            pass  # refused by the suggestion loop (closed for votes, self-merge, ...)

    def _sid(self, i: int) -> int:
        return self.ids[i % len(self.ids)]

    async def ledger(self) -> set[tuple[Any, ...]]:
        rows = await service(self.app).ledger.rows(self.cid)
        return {(r.account_id, r.kind, r.ref, r.at, r.day, r.counted, r.points) for r in rows}


@PROPERTY
@given(rules=RULES, ops=st.lists(ANY_OP, min_size=5, max_size=50))
# A vote taken back and cast again later counts from its new time.
@example(
    rules=(0, 1, 1),
    ops=[("post", 0), ("vote", 1, 0), ("sync",), ("tick", 5), ("unvote", 1, 0), ("vote", 1, 0)],
)
# A counted vote taken back lets the next one of that day count.
@example(
    rules=(1, 1, 1),
    ops=[
        ("post", 0),
        ("post", 0),
        ("vote", 1, 0),
        ("tick", 1),
        ("vote", 1, 1),
        ("sync",),
        ("unvote", 1, 0),
    ],
)
async def test_reconciled_ledger_equals_a_recompute(
    app: App,
    clock: FakeClock,
    rules: tuple[int, int, int],
    ops: list[tuple[Any, ...]],
) -> None:
    world = World(app, clock, _source(app))
    cid = await world.start(rules)
    for op in ops:
        await world.do(op)
    await service(app).reconcile(cid)
    incremental = await world.ledger()
    totals = await service(app).ledger.totals(cid)
    await service(app).recompute(cid)
    assert await world.ledger() == incremental
    assert await service(app).ledger.totals(cid) == totals


@PROPERTY
@given(rules=RULES, ops=st.lists(GROWING_OP, min_size=5, max_size=50))
async def test_incremental_sync_alone_equals_a_recompute_when_nothing_is_withdrawn(
    app: App,
    clock: FakeClock,
    rules: tuple[int, int, int],
    ops: list[tuple[Any, ...]],
) -> None:
    world = World(app, clock, _source(app))
    cid = await world.start(rules)
    await service(app).refresh(cid)
    for op in ops:
        await world.do(op)
    await service(app).refresh(cid)
    incremental = await world.ledger()
    await service(app).recompute(cid)
    assert await world.ledger() == incremental


def _source(app: App) -> ListSource:
    for s in app.contribution_sources:
        if isinstance(s, ListSource):
            return s
    source = ListSource()
    app.contribution_sources.append(source)
    return source


@PROPERTY
@given(
    scores=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 3)), max_size=30
    ),
    limit=st.integers(1, 6),
)
async def test_the_database_ranks_like_the_definition(
    app: App, clock: FakeClock, scores: list[tuple[int, int, int]], limit: int
) -> None:
    """Leaderboards come from SQL (top rows, counts); they must agree with `rank` over all."""
    world = World(app, clock, _source(app))
    cid = await world.start((0, 1, 1))
    extra = [await member(app, f"x{i}", space=f"prop-x-{cid}") for i in range(3)]
    people = [f.member.account_id for f in world.fans] + [m.member.account_id for m in extra]
    start = clock.now()
    for who, ref, minutes in scores:
        world.source.add(people[who], "report", start + timedelta(minutes=minutes), f"r{ref}")
    clock.advance(timedelta(minutes=5))
    await service(app).refresh(cid)
    totals = await service(app).ledger.totals(cid)
    everyone = rank(totals)
    for account in people:
        board = await service(app).standings(cid, "all", account, limit=limit)
        assert board.top == everyone[:limit]
        assert board.ranked == len(everyone)
        expected = next((r for r in everyone if r.account_id == account), None)
        assert board.me == expected
