"""Per-member rate limits: the database's sliding window (PostgreSQL, shared by every process)
answers as the in-memory one does, and holds when several processes' calls arrive at once."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import FakeClock
from bot.core.errors import RateLimited
from bot.core.ratelimit import LocalRateLimits, RateLimiter, RateLimits, SharedRateLimits
from storage.core.rate_limits import RateLimitRepo
from storage.engine import create_engine
from tests.conftest import PG_URL, START, make_engine

pg_only = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
GUARD = ("refused", 4, 60.0)
_accounts = itertools.count(1)


async def _admitted(limits: RateLimits, account: int, bucket: str, calls: int, s: float) -> bool:
    try:
        await limits.admit(account, bucket, calls, s, GUARD)
    except RateLimited:
        return False
    return True


@pg_only
async def test_calls_from_several_processes_at_once_are_admitted_calls_times(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    # Two engines, two pools: what two processes would have.
    other = create_engine(PG_URL, schema=schema)
    clock = FakeClock(START)
    try:
        sides = [SharedRateLimits(RateLimitRepo(e), clock) for e in (engine, other)]

        async def burst(n: int) -> int:
            tries = [_admitted(sides[i % 2], 7, "cmd:new", 10, 60.0) for i in range(n)]
            return sum(await asyncio.gather(*tries))

        assert await burst(60) == 10
        clock.advance(timedelta(seconds=59))
        assert await burst(4) == 0
        clock.advance(timedelta(seconds=1.5))  # the window has moved past the first ten
        assert await burst(30) == 10
    finally:
        await other.dispose()
        await engine.dispose()


@pg_only
async def test_refused_attempts_count_in_the_guard_and_are_given_back(
    db_kind: str, tmp_path: Path
) -> None:
    engine, _ = await make_engine(db_kind, tmp_path)
    clock = FakeClock(START)
    limits = SharedRateLimits(RateLimitRepo(engine), clock)
    try:
        for _ in range(GUARD[1]):
            await limits.admit(9, "act:sv", 5, 60.0, GUARD)
            await limits.refused(9, "act:sv", GUARD)  # a typo: given back, counted as refused
        with pytest.raises(RateLimited) as refused:
            await limits.admit(9, "act:sv", 5, 60.0, GUARD)  # the guard is full
        assert refused.value.params["seconds"] == 60
        hits = await RateLimitRepo(engine).hits(9, "act:sv", 60.0, clock.now().timestamp())
        assert hits == []  # every call was given back; the refused one was not recorded
        clock.advance(timedelta(seconds=30))
        with pytest.raises(RateLimited) as again:
            await limits.admit(9, "act:sv", 5, 60.0, GUARD)
        assert again.value.params["seconds"] == 30
    finally:
        await engine.dispose()


# A sequence of (seconds to wait, what happens): a call admitted or refused, or a call that ends
# refused by its handler (given back).
steps = st.lists(
    st.tuples(st.sampled_from([0.0, 0.5, 7.0, 31.0]), st.sampled_from(["call", "refused"])),
    max_size=30,
)


@pg_only
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=steps)
async def test_the_database_answers_as_memory_does(
    engine: AsyncEngine, sequence: list[tuple[float, str]]
) -> None:
    clock = FakeClock(START)
    memory = LocalRateLimits(RateLimiter(clock))
    shared = SharedRateLimits(RateLimitRepo(engine), clock)
    account = next(_accounts) + 1000
    for wait, what in sequence:
        clock.advance(timedelta(seconds=wait))
        answers = []
        for limits in (memory, shared):
            try:
                await limits.admit(account, "cmd:x", 3, 30.0, GUARD)
                if what == "refused":
                    await limits.refused(account, "cmd:x", GUARD)
                answers.append(None)
            except RateLimited as exc:
                answers.append(exc.params["seconds"])
        assert answers[0] == answers[1], (sequence, answers)


@pg_only
async def test_a_burst_is_checked_in_a_few_statements_in_arrival_order(
    db_kind: str, tmp_path: Path
) -> None:
    engine, _ = await make_engine(db_kind, tmp_path)
    limits = SharedRateLimits(RateLimitRepo(engine), FakeClock(START))
    try:
        members = [_admitted(limits, 100 + i, "act:sv", 3, 60.0) for i in range(200)]
        # One member presses five times in the same burst: the first three pass.
        one = [_admitted(limits, 99, "act:sv", 3, 60.0) for _ in range(5)]
        answers = await asyncio.gather(*members, *one)
        assert all(answers[:200]) and answers[200:] == [True, True, True, False, False]
        assert limits.batches <= 3  # not one statement per press
    finally:
        await engine.dispose()
