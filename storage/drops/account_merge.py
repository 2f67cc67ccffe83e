"""Linked accounts count once in drops: move one account's drop rows onto another.

Where both accounts reserved the same drop, one reservation is kept. Where both won, the
confirmed win is kept (the target's when both or neither are confirmed) and the other's units
return to the pool for the waiting list; a confirmed win is never dropped for an unconfirmed
one, and an account with a win never loses it to one without.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.drops.changes import publish_drop
from storage.drops.schema import fcodes, lapses, reservations, waitlist, wins
from storage.drops.slots import lapse_win


async def merge_accounts(
    conn: AsyncConnection, from_account: int, to_account: int, now: datetime
) -> None:
    if from_account == to_account:
        return
    await publish_drop(conn, None, reservations=True)
    theirs = {
        int(r.drop_id)
        for r in await conn.execute(
            select(reservations.c.drop_id).where(reservations.c.account_id == to_account)
        )
    }
    mine = [
        int(r.drop_id)
        for r in await conn.execute(
            select(reservations.c.drop_id).where(reservations.c.account_id == from_account)
        )
    ]
    for drop_id in mine:
        if drop_id not in theirs:
            # Only one of them reserved: the reservation moves (its win, slots and waiting-list
            # place follow through ON UPDATE CASCADE).
            await conn.execute(
                update(reservations)
                .where(reservations.c.drop_id == drop_id, reservations.c.account_id == from_account)
                .values(account_id=to_account)
            )
            continue
        w_from = await _win(conn, drop_id, from_account)
        w_to = await _win(conn, drop_id, to_account)
        keep_from = w_from is not None and (
            w_to is None or (w_from.confirmed_at is not None and w_to.confirmed_at is None)
        )
        if keep_from:
            # The target's own reservation (and its unconfirmed win, if any) gives way.
            if w_to is not None:
                await _release(conn, drop_id, to_account, w_to, now)
            await conn.execute(
                delete(reservations).where(
                    reservations.c.drop_id == drop_id, reservations.c.account_id == to_account
                )
            )
            await conn.execute(
                update(reservations)
                .where(reservations.c.drop_id == drop_id, reservations.c.account_id == from_account)
                .values(account_id=to_account)
            )
        else:
            if w_from is not None:
                await _release(conn, drop_id, from_account, w_from, now)
            await conn.execute(
                delete(reservations).where(
                    reservations.c.drop_id == drop_id, reservations.c.account_id == from_account
                )
            )
    # F-codes: the holder becomes the target; a code the source used moves unless the target
    # already used one for that drop.
    await conn.execute(
        update(fcodes).where(fcodes.c.account_id == from_account).values(account_id=to_account)
    )
    used_by_target = {
        int(r.drop_id)
        for r in await conn.execute(select(fcodes.c.drop_id).where(fcodes.c.used_by == to_account))
    }
    for r in await conn.execute(
        select(fcodes.c.code, fcodes.c.drop_id).where(fcodes.c.used_by == from_account)
    ):
        if int(r.drop_id) not in used_by_target:
            await conn.execute(
                update(fcodes).where(fcodes.c.code == r.code).values(used_by=to_account)
            )
    await conn.execute(
        update(lapses).where(lapses.c.account_id == from_account).values(account_id=to_account)
    )


async def _win(conn: AsyncConnection, drop_id: int, account_id: int) -> Row[Any, Any, Any] | None:
    return (
        await conn.execute(
            select(wins.c.code, wins.c.units, wins.c.confirmed_at).where(
                wins.c.drop_id == drop_id, wins.c.account_id == account_id
            )
        )
    ).first()


async def _release(
    conn: AsyncConnection, drop_id: int, account_id: int, win: Row[Any, Any, Any], now: datetime
) -> None:
    """Drop a duplicate win of a linked account; its units go back to the pool."""
    await lapse_win(conn, drop_id, account_id, win.code, win.units, "merge", now)
    await conn.execute(
        delete(waitlist).where(waitlist.c.drop_id == drop_id, waitlist.c.account_id == account_id)
    )
