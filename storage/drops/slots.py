"""Slots and wins inside one transaction: the pieces every way of winning shares.

A win holds `units` slots numbered in 1..quota; the schema (slot unique per drop, CHECK on the
range) makes a concurrent writer fail rather than oversell, and the caller tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.drops.schema import drops, lapses, slots, wins


@dataclass(frozen=True)
class WinRow:
    account_id: int
    code: str
    units: int
    source: str
    won_at: datetime
    confirm_by: datetime
    confirmed_at: datetime | None


def win_row(r: object) -> WinRow:
    m = r._mapping  # type: ignore[attr-defined]
    return WinRow(
        m["account_id"],
        m["code"],
        m["units"],
        m["source"],
        m["won_at"],
        m["confirm_by"],
        m["confirmed_at"],
    )


async def lowest_free(conn: AsyncConnection, drop_id: int, quota: int, n: int) -> list[int]:
    """Up to `n` of the lowest slot numbers in 1..quota that no one holds."""
    taken = {
        int(s)
        for s in (
            await conn.execute(select(slots.c.slot).where(slots.c.drop_id == drop_id))
        ).scalars()
    }
    out: list[int] = []
    slot = 1
    while len(out) < n and slot <= quota:
        if slot not in taken:
            out.append(slot)
        slot += 1
    return out


async def check_slots_by_key(conn: AsyncConnection) -> None:
    """Call in a transaction that adds slots, before it does.

    PostgreSQL checks each new slot against its win (the foreign key to `drop_wins`) with a
    plan it makes once per connection and then keeps. Made while `drop_wins` is small or
    empty (a first drop, or one after a small drop), that plan reads the whole table, and it is
    still the plan when a burst has grown the table to 100,000 wins: every slot then pays for
    every win before it (batches of 256 slots went from 2 ms to over 50 within 1,500 wins, and
    a burst of 100,000 from seconds to minutes). In this transaction no plan may read a whole
    table, so a check planned here looks the win up by its primary key, as it should at any
    size. (The statements here look rows up by key anyway.)"""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL enable_seqscan = off"))


async def insert_win(
    conn: AsyncConnection,
    drop_id: int,
    quota: int,
    per_account: int,
    account_id: int,
    numbers: list[int],
    code: str,
    source: str,
    now: datetime,
    confirm_by: datetime,
) -> None:
    await check_slots_by_key(conn)
    await conn.execute(
        insert(wins).values(
            drop_id=drop_id,
            account_id=account_id,
            code=code,
            units=len(numbers),
            source=source,
            won_at=now,
            confirm_by=confirm_by,
        )
    )
    await conn.execute(insert(slots), slot_rows(drop_id, quota, per_account, account_id, numbers))


def slot_rows(
    drop_id: int, quota: int, per_account: int, account_id: int, numbers: list[int]
) -> list[dict[str, int]]:
    """The `slots` rows of one win: units 1..n on the given slot numbers."""
    return [
        {
            "drop_id": drop_id,
            "slot": slot,
            "quota": quota,
            "per_account": per_account,
            "account_id": account_id,
            "unit": unit,
        }
        for unit, slot in enumerate(numbers, start=1)
    ]


async def lapse_win(
    conn: AsyncConnection,
    drop_id: int,
    account_id: int,
    code: str,
    units: int,
    reason: str,
    now: datetime,
) -> None:
    """Take a win back: its slots return to the pool and the lapse is recorded."""
    await conn.execute(
        delete(slots).where(slots.c.drop_id == drop_id, slots.c.account_id == account_id)
    )
    await conn.execute(
        delete(wins).where(wins.c.drop_id == drop_id, wins.c.account_id == account_id)
    )
    await conn.execute(
        insert(lapses).values(
            drop_id=drop_id,
            account_id=account_id,
            code=code,
            units=units,
            reason=reason,
            lapsed_at=now,
        )
    )


async def lock_drop(conn: AsyncConnection, drop_id: int) -> None:
    """Serialize writers of one drop on PostgreSQL (SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(drops.c.id).where(drops.c.id == drop_id).with_for_update())
