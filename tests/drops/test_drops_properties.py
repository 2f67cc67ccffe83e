"""Invariants of flash claims under concurrent bursts, on both databases: never oversold, at
most one win per account (within the per-account limit), every "won" answer is stored, and a
repeated press gets the same answer. Also with two engines (two processes) sharing a database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.drops.claims import ClaimEngine, ClaimResult
from cogs.drops.redemption_codes import new_redemption_code
from cogs.drops.service import DropService
from storage.drops.claims import ClaimStore
from storage.drops.schema import slots, wins
from tests.helpers import member

PROPERTY = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_space = iter(range(10**9))

burst = st.fixed_dictionaries(
    {
        "quota": st.integers(1, 6),
        "per_account": st.integers(1, 3),
        "waitlist": st.integers(0, 3),
        # units each of 8 members reserves (0: does not reserve)
        "reserve": st.lists(st.integers(0, 3), min_size=8, max_size=8),
        # who presses, in order (repeats are double presses / redeliveries)
        "presses": st.lists(st.integers(0, 7), min_size=1, max_size=30),
        "batch": st.integers(1, 8),
    }
)


async def _setup(app: App, clock: FakeClock, b: dict) -> tuple[int, int, list[int], dict[int, int]]:  # type: ignore[type-arg]
    s = app.services.get(DropService)
    space = f"prop-{next(_space)}"
    people = [await member(app, f"m{i}", space=space) for i in range(8)]
    cid = people[0].community.id
    now = clock.now()
    drop = await s.create(
        cid,
        people[0].member.account_id,
        name="prop",
        quota=b["quota"],
        drop_at=now + timedelta(hours=1),
        per_account=b["per_account"],
        waitlist=b["waitlist"],
    )
    reserved: dict[int, int] = {}
    for person, units in zip(people, b["reserve"], strict=True):
        if units:
            units = min(units, b["per_account"])
            await s.reserve(cid, drop.id, person.member.account_id, units, None)
            reserved[person.member.account_id] = units
    clock.advance(timedelta(hours=1, seconds=1))
    return cid, drop.id, [p.member.account_id for p in people], reserved


async def _check(
    app: App,
    drop_id: int,
    b: dict,  # type: ignore[type-arg]
    reserved: dict[int, int],
    answers: list[tuple[int, ClaimResult]],
) -> None:
    async with app.engine.connect() as conn:
        held = [(r.slot, r.account_id, r.unit) for r in await conn.execute(
            select(slots.c.slot, slots.c.account_id, slots.c.unit).where(slots.c.drop_id == drop_id)
        )]  # fmt: skip
        stored = {r.account_id: (r.code, r.units) for r in await conn.execute(
            select(wins.c.account_id, wins.c.code, wins.c.units).where(wins.c.drop_id == drop_id)
        )}  # fmt: skip
    numbers = [s for s, _, _ in held]
    # Never oversold: distinct slot numbers within 1..quota.
    assert len(numbers) == len(set(numbers)) <= b["quota"]
    assert all(1 <= n <= b["quota"] for n in numbers)
    # One win per account, within its reservation and the per-account limit; winners reserved.
    for account, (_code, units) in stored.items():
        assert account in reserved and 1 <= units <= min(reserved[account], b["per_account"])
        assert sum(1 for _, a, _ in held if a == account) == units
    # Nothing is left unsold while a reserver who pressed went without.
    pressed = {a for a, _ in answers if a in reserved}
    assert len(numbers) == min(b["quota"], sum(reserved[a] for a in pressed))
    # Every answer is durable and consistent; repeated presses get the same answer.
    seen: dict[int, ClaimResult] = {}
    for account, result in answers:
        if result.status == "won":
            assert stored[account] == (result.code, result.units)
        elif account in reserved:
            assert result.status in ("waitlisted", "sold_out") and account not in stored
        else:
            assert result.status == "not_reserved"
        first = seen.setdefault(account, result)
        assert (first.status, first.code, first.position) == (
            result.status,
            result.code,
            result.position,
        ) or first.status == "sold_out"
    waiting = [r.position for _, r in answers if r.status == "waitlisted"]
    assert len(set(waiting)) <= b["waitlist"]


@PROPERTY
@given(b=burst)
async def test_concurrent_claims_never_oversell(app: App, clock: FakeClock, b: dict) -> None:  # type: ignore[type-arg]
    s = app.services.get(DropService)
    s.claims.max_batch = b["batch"]
    cid, drop_id, people, reserved = await _setup(app, clock, b)
    accounts = [people[i] for i in b["presses"]]
    results = await asyncio.gather(*(s.claim(cid, drop_id, a, None) for a in accounts))
    answers = [(a, r) for a, (_, r) in zip(accounts, results, strict=True)]
    await _check(app, drop_id, b, reserved, answers)


@PROPERTY
@given(b=burst)
async def test_two_processes_share_one_database(app: App, clock: FakeClock, b: dict) -> None:  # type: ignore[type-arg]
    _cid, drop_id, people, reserved = await _setup(app, clock, b)
    engines = [
        ClaimEngine(ClaimStore(app.engine), clock, new_redemption_code, max_batch=b["batch"])
        for _ in range(2)
    ]
    for e in engines:
        await e.prepare(drop_id)  # both start from the same view, so they collide
    accounts = [people[i] for i in b["presses"]]
    results = await asyncio.gather(
        *(engines[i % 2].claim(drop_id, a) for i, a in enumerate(accounts))
    )
    for e in engines:
        await e.close()
    await _check(app, drop_id, b, reserved, list(zip(accounts, results, strict=True)))


async def test_a_collision_between_processes_falls_back_without_losing_a_win(
    app: App, clock: FakeClock
) -> None:
    b = {"quota": 3, "per_account": 1, "waitlist": 2, "reserve": [1] * 8, "presses": [], "batch": 4}
    _cid, drop_id, people, reserved = await _setup(app, clock, b)
    one, two = (ClaimEngine(ClaimStore(app.engine), clock, new_redemption_code) for _ in range(2))
    await one.prepare(drop_id)
    await two.prepare(drop_id)
    first = [(a, await one.claim(drop_id, a)) for a in people[:2]]  # slots 1 and 2
    second = [(a, await two.claim(drop_id, a)) for a in people[2:6]]  # two believes 1..3 free
    assert two.fallbacks >= 1
    answers = first + second
    assert [r.status for _, r in answers] == [
        "won",
        "won",
        "won",
        "waitlisted",
        "waitlisted",
        "sold_out",
    ]
    await _check(app, drop_id, b, reserved, answers)
    for e in (one, two):
        await e.close()
