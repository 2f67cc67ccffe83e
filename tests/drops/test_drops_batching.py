"""Batching changes no outcome: the same presses, in the same order, answered by the claim
engine (group commit, any batch size, presses answered from memory once the drop is final)
and by a reference that runs one transaction per claim and reads everything from the database.
Same answers press by press, same winners, same waiting list in the same order, nobody twice;
on SQLite and PostgreSQL (on SQLite with the WAL checkpointed beside the batches)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.drops.claims import ClaimEngine, ClaimResult, ClaimStatus
from cogs.drops.redemption_codes import new_redemption_code
from cogs.drops.service import DropService, Recipient
from storage.core.schema import outbox
from storage.drops.claims import ClaimStore
from storage.drops.schema import reservations, slots, waitlist, wins
from storage.platform.schema import processed_events
from tests.helpers import member

PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_space = iter(range(10**9))

burst = st.fixed_dictionaries(
    {
        "quota": st.integers(1, 8),
        "per_account": st.integers(1, 3),
        "waitlist": st.integers(0, 4),
        # units each of 10 members reserves (0: does not reserve)
        "reserve": st.lists(st.integers(0, 3), min_size=10, max_size=10),
        # who presses, in order (repeats are double presses / redeliveries)
        "presses": st.lists(st.integers(0, 9), min_size=1, max_size=40),
        "batch": st.integers(1, 64),
        # the presses arrive in this many waves, each once the one before was answered (so
        # later waves meet a drop whose final state is answered from memory)
        "waves": st.integers(1, 4),
    }
)


async def _drop(app: App, clock: FakeClock, b: dict, people: list[int], cid: int) -> int:  # type: ignore[type-arg]
    s = app.services.get(DropService)
    drop = await s.create(
        cid,
        people[0],
        name="prop",
        quota=b["quota"],
        drop_at=clock.now() + timedelta(hours=1),
        per_account=b["per_account"],
        waitlist=b["waitlist"],
    )
    for account, units in zip(people, b["reserve"], strict=True):
        if units:
            await s.reserve(cid, drop.id, account, min(units, b["per_account"]), None)
    return drop.id


async def _one_transaction_per_claim(
    engine: AsyncEngine,
    drop_id: int,
    b: dict,
    account: int,
    now: datetime,  # type: ignore[type-arg]
) -> ClaimResult:
    """The rules, the obvious way: each press its own transaction, state read from the database."""
    async with engine.begin() as conn:
        units = (
            await conn.execute(
                select(reservations.c.units).where(
                    reservations.c.drop_id == drop_id, reservations.c.account_id == account
                )
            )
        ).scalar()
        held = (
            await conn.execute(
                select(wins.c.code, wins.c.units).where(
                    wins.c.drop_id == drop_id, wins.c.account_id == account
                )
            )
        ).first()
        if held is not None:
            return ClaimResult(ClaimStatus.WON, held.code, held.units, again=True)
        if units is None:
            return ClaimResult(ClaimStatus.NOT_RESERVED)
        waiting = (
            await conn.execute(
                select(waitlist.c.position).where(
                    waitlist.c.drop_id == drop_id, waitlist.c.account_id == account
                )
            )
        ).scalar()
        if waiting is not None:
            return ClaimResult(ClaimStatus.WAITLISTED, position=waiting, again=True)
        taken = set(
            (await conn.execute(select(slots.c.slot).where(slots.c.drop_id == drop_id))).scalars()
        )
        quota, cap = b["quota"], b["waitlist"]
        free = [n for n in range(1, quota + 1) if n not in taken]
        if free:
            numbers = free[: int(units)]
            code = new_redemption_code()
            await conn.execute(
                insert(wins).values(
                    drop_id=drop_id, account_id=account, code=code, units=len(numbers),
                    source="flash", won_at=now, confirm_by=now + timedelta(days=1),
                )
            )  # fmt: skip
            await conn.execute(
                insert(slots),
                [
                    {"drop_id": drop_id, "slot": n, "quota": quota, "account_id": account,
                     "per_account": b["per_account"], "unit": unit}
                    for unit, n in enumerate(numbers, start=1)
                ],
            )  # fmt: skip
            return ClaimResult(ClaimStatus.WON, code, len(numbers))
        last = (
            await conn.execute(
                select(func.coalesce(func.max(waitlist.c.position), 0)).where(
                    waitlist.c.drop_id == drop_id
                )
            )
        ).scalar_one()
        if last >= cap:
            return ClaimResult(ClaimStatus.SOLD_OUT)
        await conn.execute(
            insert(waitlist).values(
                drop_id=drop_id, position=last + 1, account_id=account, units=units, added_at=now
            )
        )
        return ClaimResult(ClaimStatus.WAITLISTED, position=last + 1)


def _shape(r: ClaimResult) -> tuple[str, int, int | None, bool]:
    return (r.status, r.units, r.position, r.again)


async def _stored(engine: AsyncEngine, drop_id: int) -> tuple[dict[int, int], list[int]]:
    async with engine.connect() as conn:
        won = {
            int(r.account_id): int(r.units)
            for r in await conn.execute(
                select(wins.c.account_id, wins.c.units).where(wins.c.drop_id == drop_id)
            )
        }
        queue = [
            int(a)
            for a in (
                await conn.execute(
                    select(waitlist.c.account_id)
                    .where(waitlist.c.drop_id == drop_id)
                    .order_by(waitlist.c.position)
                )
            ).scalars()
        ]
    return won, queue


@PROPERTY
@given(b=burst)
async def test_batching_changes_no_outcome(app: App, clock: FakeClock, b: dict) -> None:  # type: ignore[type-arg]
    space = f"batch-{next(_space)}"
    people = [(await member(app, f"m{i}", space=space)) for i in range(10)]
    cid = people[0].community.id
    accounts = [p.member.account_id for p in people]
    batched_drop = await _drop(app, clock, b, accounts, cid)
    reference_drop = await _drop(app, clock, b, accounts, cid)
    clock.advance(timedelta(hours=1, seconds=1))
    presses = [accounts[i] for i in b["presses"]]

    engine = ClaimEngine(ClaimStore(app.engine), clock, new_redemption_code, max_batch=b["batch"])
    batched: list[ClaimResult] = []
    size = -(-len(presses) // b["waves"])
    for start in range(0, len(presses), size):
        wave = presses[start : start + size]
        batched += await asyncio.gather(*(engine.claim(batched_drop, a) for a in wave))
    await engine.close()
    # On a SQLite file the WAL was checkpointed beside the batches (after each answered batch,
    # unless one was still running), and that changed nothing below.
    assert engine.store.checkpoint_runs >= min(1, engine.batches) or not engine.store.checkpoints
    reference = [
        await _one_transaction_per_claim(app.engine, reference_drop, b, a, clock.now())
        for a in presses
    ]

    # The same answer to every press (codes are random: the same code to the same member).
    assert [_shape(r) for r in batched] == [_shape(r) for r in reference]
    codes: dict[int, str | None] = {}
    for account, r in zip(presses, batched, strict=True):
        if r.status == ClaimStatus.WON:
            assert codes.setdefault(account, r.code) == r.code
    # The same winners (units), the same waiting list in the same order, nobody twice.
    won, queue = await _stored(app.engine, batched_drop)
    assert (won, queue) == await _stored(app.engine, reference_drop)
    assert len(queue) == len(set(queue)) and not set(queue) & set(won)
    eligible = {a for a in presses if b["reserve"][accounts.index(a)]}
    assert len(won) <= min(b["quota"], len(eligible))
    units = {a: min(b["reserve"][accounts.index(a)], b["per_account"]) for a in eligible}
    assert sum(won.values()) == min(b["quota"], sum(units.values()))


@PROPERTY
@given(presses=st.lists(st.integers(0, 9), min_size=1, max_size=40))
async def test_reservations_batched_are_made_once(
    app: App, clock: FakeClock, presses: list[int]
) -> None:
    """A burst of Reserve presses (repeats included) committed together: one reservation per
    member, and exactly one of each member's presses is told it made it."""
    s = app.services.get(DropService)
    space = f"reserve-{next(_space)}"
    people = [(await member(app, f"m{i}", space=space)) for i in range(10)]
    cid = people[0].community.id
    accounts = [p.member.account_id for p in people]
    drop = await s.create(
        cid, accounts[0], name="r", quota=3, drop_at=clock.now() + timedelta(hours=1)
    )
    pressing = [accounts[i] for i in presses]
    answers = await asyncio.gather(*(s.reserve(cid, drop.id, a, None, None) for a in pressing))
    made: dict[int, int] = {}
    for account, (_row, created, units) in zip(pressing, answers, strict=True):
        made[account] = made.get(account, 0) + int(created)
        assert units == 1
    assert made == dict.fromkeys(pressing, 1)
    assert sorted(await s.reservations.reservers(drop.id)) == sorted(set(pressing))


async def test_a_claim_stores_its_receipt_and_its_message_with_the_win(
    app: App, clock: FakeClock
) -> None:
    """The delivery's receipt and the winner's private message commit with the claim."""
    s = app.services.get(DropService)
    people = [(await member(app, f"w{i}", space="receipts")) for i in range(2)]
    cid = people[0].community.id
    accounts = [p.member.account_id for p in people]
    drop = await s.create(
        cid, accounts[0], name="r", quota=1, drop_at=clock.now() + timedelta(hours=1)
    )
    for a in accounts:
        await s.reserve(cid, drop.id, a, None, None)
    clock.advance(timedelta(hours=1, seconds=1))
    to = Recipient("console", "w0", "en")
    won = await s.claim_for(
        cid, drop.id, accounts[0], None, recipient=to, receipt=("console", "e1")
    )
    assert won.result.status == ClaimStatus.WON and won.sent and won.receipt_recorded
    lost = await s.claim_for(cid, drop.id, accounts[1], None, receipt=("console", "e2"))
    assert lost.result.status == ClaimStatus.WAITLISTED and not lost.sent
    async with app.engine.connect() as conn:
        events = set((await conn.execute(select(processed_events.c.event_id))).scalars())
        payloads = list(
            (
                await conn.execute(
                    select(outbox.c.payload).where(
                        outbox.c.kind == "member", outbox.c.account_id == accounts[0]
                    )
                )
            ).scalars()
        )
    assert {"e1", "e2"} <= events
    assert len(payloads) == 1 and won.result.code in payloads[0]["text"]
