"""Persistence for the flash claim engine: load a drop's state, write a batch in one transaction.

The engine decides in memory and calls `commit` once per small batch. The database arbitrates
between processes: a batch that collides with another writer (a slot or an account taken,
a waiting-list place used) is rolled back whole and raises `BatchCollision`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.drops.schema import drops, lapses, reservations, slots, waitlist, wins


class BatchCollision(Exception):
    """A batch collided with another writer (a unique slot, one win per account, one waiting-list
    place): the database refused it whole."""


@dataclass
class HeldWin:
    code: str
    units: int
    confirm_by: datetime


@dataclass
class ClaimSnapshot:
    drop_id: int
    quota: int
    per_account: int
    waitlist_cap: int
    confirm_seconds: int
    drop_at: datetime
    cancelled: bool
    reserved: array[int]  # sorted account ids
    multi_units: dict[int, int]  # accounts that reserved more than one unit
    winners: dict[int, HeldWin]
    free: list[int]  # free slot numbers, highest first (pop() gives the lowest)
    waiting: dict[int, int]  # account -> waiting-list position
    next_position: int
    lapsed: set[int]


@dataclass
class BatchWrite:
    """Rows one batch adds, across drops."""

    wins: list[dict[str, Any]] = field(default_factory=list)
    slots: list[dict[str, Any]] = field(default_factory=list)
    waitlist: list[dict[str, Any]] = field(default_factory=list)
    attempts: dict[int, int] = field(default_factory=dict)
    sold_out: set[int] = field(default_factory=set)

    def empty(self) -> bool:
        return not (self.wins or self.slots or self.waitlist or self.attempts or self.sold_out)


class ClaimStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(
        self, drop_id: int, *, reserved: array[int] | None = None
    ) -> ClaimSnapshot | None:
        """The drop's state; pass `reserved` (kept from an earlier load) to skip reading the
        reservations again, which do not change once the drop is open."""
        async with self.engine.connect() as conn:
            d = (await conn.execute(select(drops).where(drops.c.id == drop_id))).first()
            if d is None:
                return None
            multi: dict[int, int] = {}
            if reserved is None:
                reserved = array("q")
                result = await conn.stream(
                    select(reservations.c.account_id, reservations.c.units)
                    .where(reservations.c.drop_id == drop_id)
                    .order_by(reservations.c.account_id)
                )
                async for part in result.partitions(20000):
                    for account_id, units in part:
                        reserved.append(account_id)
                        if units > 1:
                            multi[account_id] = units
            winners = {
                int(r.account_id): HeldWin(r.code, int(r.units), r.confirm_by)
                for r in await conn.execute(
                    select(wins.c.account_id, wins.c.code, wins.c.units, wins.c.confirm_by).where(
                        wins.c.drop_id == drop_id
                    )
                )
            }
            taken = {
                int(s)
                for s in (
                    await conn.execute(select(slots.c.slot).where(slots.c.drop_id == drop_id))
                ).scalars()
            }
            waiting: dict[int, int] = {}
            last = 0
            for r in await conn.execute(
                select(waitlist.c.account_id, waitlist.c.position, waitlist.c.promoted_at).where(
                    waitlist.c.drop_id == drop_id
                )
            ):
                last = max(last, int(r.position))
                if r.promoted_at is None:
                    waiting[int(r.account_id)] = int(r.position)
            lapsed = {
                int(a)
                for a in (
                    await conn.execute(
                        select(lapses.c.account_id).where(
                            lapses.c.drop_id == drop_id, lapses.c.reason == "deadline"
                        )
                    )
                ).scalars()
            }
        free = [s for s in range(d.quota, 0, -1) if s not in taken]
        return ClaimSnapshot(
            drop_id=drop_id,
            quota=d.quota,
            per_account=d.per_account,
            waitlist_cap=d.waitlist,
            confirm_seconds=d.confirm_seconds,
            drop_at=d.drop_at,
            cancelled=d.cancelled_at is not None,
            reserved=reserved,
            multi_units=multi,
            winners=winners,
            free=free,
            waiting=waiting,
            next_position=last + 1,
            lapsed=lapsed,
        )

    async def commit(self, batch: BatchWrite, now: datetime) -> None:
        """Write one batch atomically; `BatchCollision` (nothing of it was written) when it
        collides with another writer."""
        try:
            async with self.engine.begin() as conn:
                if batch.wins:
                    await conn.execute(insert(wins), batch.wins)
                    await conn.execute(insert(slots), batch.slots)
                if batch.waitlist:
                    await conn.execute(insert(waitlist), batch.waitlist)
                for drop_id, n in sorted(batch.attempts.items()):
                    values: dict[str, Any] = {"attempts": drops.c.attempts + n}
                    await conn.execute(update(drops).where(drops.c.id == drop_id).values(**values))
                for drop_id in sorted(batch.sold_out):
                    await conn.execute(
                        update(drops)
                        .where(drops.c.id == drop_id, drops.c.sold_out_at.is_(None))
                        .values(sold_out_at=now)
                    )
        except IntegrityError as exc:
            raise BatchCollision(str(exc)) from exc
