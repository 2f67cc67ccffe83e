"""A burst's slots are checked against their wins by key, however small `drop_wins` was when the
check was first planned (PostgreSQL keeps a foreign-key check's plan per connection; planned on a
small table, it read every win for each new slot and a burst of 100,000 took minutes:
`storage.drops.slots.check_slots_by_key`). SQLite checks a foreign key through the parent's
key index whatever the table holds, so this is PostgreSQL's test."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.bench.drops import DROP_AT, seed
from storage.drops.claims import BatchWrite, ClaimStore, DropWrites
from tests.databases import table_scans

BATCHES = 6
PER_BATCH = 50


async def test_a_bursts_slots_are_checked_by_key_on_a_table_that_was_empty(
    pg_one_connection: AsyncEngine,
) -> None:
    engine = pg_one_connection
    # Reservers, and statistics that say `drop_wins` is empty, as after a first small drop.
    drop_id = await seed(engine, BATCHES * PER_BATCH, BATCHES * PER_BATCH, 0)
    async with engine.connect() as conn:
        first = (
            await conn.execute(
                text("SELECT min(account_id) FROM drop_reservations WHERE drop_id = :d"),
                {"d": drop_id},
            )
        ).scalar_one()
    store = ClaimStore(engine)
    before = await table_scans(engine, "drop_wins")
    now = DROP_AT + timedelta(seconds=1)
    account, slot = int(first), 1
    for b in range(BATCHES):
        w = DropWrites(quota=BATCHES * PER_BATCH, per_account=1, confirm_by=now + timedelta(days=1))
        for _ in range(PER_BATCH):
            w.wins.append((account, f"C{b}-{account}", 1))
            w.slots.append((slot, account, 1))
            account, slot = account + 1, slot + 1
        await store.commit(BatchWrite(drops={drop_id: w}), now)
    after = await table_scans(engine, "drop_wins")
    store.close()

    grew = {name: after[name] - before.get(name, 0) for name in after}
    slots_added = BATCHES * PER_BATCH
    assert grew["table"] == 0, grew  # no check read the whole table
    assert grew["pk_drop_wins"] >= slots_added, grew  # each slot's win looked up by its key
    assert grew["ix_drop_wins_deadline"] == 0, grew  # not through the deadline index
    async with engine.connect() as conn:
        held = (
            await conn.execute(
                text("SELECT count(*) FROM drop_slots WHERE drop_id = :d"), {"d": drop_id}
            )
        ).scalar_one()
    assert held == slots_added
