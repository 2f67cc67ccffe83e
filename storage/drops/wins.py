"""Wins outside the flash burst: lottery draws, deadlines and the waiting list (F-codes are in
`drops_fcodes`, the slot helpers all of them share in `drops_slots`).

Every function that hands out units picks the lowest free slot numbers inside its transaction;
the schema (slot unique within 1..quota) makes a concurrent writer fail rather than oversell,
and the caller simply tries again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.drops.changes import publish_drop
from storage.drops.fcodes import FcodeQueries, NewCode
from storage.drops.schema import drops, lapses, slots, waitlist, wins
from storage.drops.slots import (
    WinRow,
    check_slots_by_key,
    insert_win,
    lapse_win,
    lock_drop,
    lowest_free,
    slot_rows,
    win_row,
)

__all__ = ["ExportRow", "NewCode", "Promotion", "WinRow", "WinsRepo"]


@dataclass(frozen=True)
class Promotion:
    account_id: int
    code: str
    units: int
    confirm_by: datetime


@dataclass(frozen=True)
class ExportRow:
    account_id: int
    code: str
    units: int
    source: str
    won_at: datetime
    confirm_by: datetime
    confirmed_at: datetime | None
    slots: list[int]


class WinsRepo(FcodeQueries):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def win_of(self, drop_id: int, account_id: int) -> WinRow | None:
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(wins).where(wins.c.drop_id == drop_id, wins.c.account_id == account_id)
                )
            ).first()
            return win_row(r) if r else None

    async def waiting_position(self, drop_id: int, account_id: int) -> int | None:
        """The account's place among those still waiting (1 = next), or None."""
        async with self.engine.connect() as conn:
            pos = (
                await conn.execute(
                    select(waitlist.c.position).where(
                        waitlist.c.drop_id == drop_id,
                        waitlist.c.account_id == account_id,
                        waitlist.c.promoted_at.is_(None),
                    )
                )
            ).scalar()
            if pos is None:
                return None
            ahead = (
                await conn.execute(
                    select(func.count()).where(
                        waitlist.c.drop_id == drop_id,
                        waitlist.c.promoted_at.is_(None),
                        waitlist.c.position < pos,
                    )
                )
            ).scalar_one()
            return int(ahead) + 1

    async def lapsed(self, drop_id: int, account_id: int) -> bool:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(lapses.c.id).where(
                    lapses.c.drop_id == drop_id,
                    lapses.c.account_id == account_id,
                    lapses.c.reason == "deadline",
                )
            )
            return r.first() is not None

    async def claim_timing(self, drop_id: int, sources: Sequence[str]) -> list[datetime]:
        """When each win from one of `sources` happened, in order (for /drop stats)."""
        q = (
            select(wins.c.won_at)
            .where(wins.c.drop_id == drop_id, wins.c.source.in_(list(sources)))
            .order_by(wins.c.won_at)
        )
        async with self.engine.connect() as conn:
            return [r.won_at for r in await conn.execute(q)]

    async def pending_deadlines(self, drop_id: int, now: datetime) -> list[int]:
        """Accounts whose win was not confirmed by its deadline."""
        q = select(wins.c.account_id).where(
            wins.c.drop_id == drop_id,
            wins.c.confirmed_at.is_(None),
            wins.c.confirm_by <= now,
        )
        async with self.engine.connect() as conn:
            return [int(r.account_id) for r in await conn.execute(q.order_by(wins.c.confirm_by))]

    async def lapsed_accounts(self, drop_id: int) -> set[int]:
        """Every account whose win in the drop lapsed (for whatever reason)."""
        q = select(lapses.c.account_id).where(lapses.c.drop_id == drop_id)
        async with self.engine.connect() as conn:
            return {int(a) for a in (await conn.execute(q)).scalars()}

    async def confirm(self, drop_id: int, account_id: int, now: datetime) -> bool:
        """Confirm a win before its deadline; True when it is confirmed (now or before)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(wins)
                .where(
                    wins.c.drop_id == drop_id,
                    wins.c.account_id == account_id,
                    wins.c.confirmed_at.is_(None),
                    wins.c.confirm_by > now,
                )
                .values(confirmed_at=now)
            )
            r = await conn.execute(
                select(wins.c.confirmed_at).where(
                    wins.c.drop_id == drop_id, wins.c.account_id == account_id
                )
            )
            return r.scalar() is not None

    # -- lottery -------------------------------------------------------------------------------

    async def record_draw(
        self,
        drop_id: int,
        quota: int,
        per_account: int,
        entrants_hash: str,
        entrants_count: int,
        drawn_slots: int,
        winners: list[tuple[int, int, str]],
        waiting: list[tuple[int, int]],
        now: datetime,
        confirm_by: datetime,
    ) -> bool:
        """Store a draw once: winners (account, units, code) and the waiting list in order."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(drops)
                .where(drops.c.id == drop_id, drops.c.drawn_at.is_(None))
                .values(
                    drawn_at=now,
                    entrants_hash=entrants_hash,
                    entrants_count=entrants_count,
                    drawn_slots=drawn_slots,
                    started_at=now,
                )
            )
            if not res.rowcount:
                return False
            free = await lowest_free(conn, drop_id, quota, sum(u for _, u, _ in winners))
            win_rows: list[dict[str, Any]] = []
            new_slots: list[dict[str, int]] = []
            for account_id, units, code in winners:
                numbers, free = free[:units], free[units:]
                win_rows.append(
                    {
                        "drop_id": drop_id,
                        "account_id": account_id,
                        "code": code,
                        "units": units,
                        "source": "lottery",
                        "won_at": now,
                        "confirm_by": confirm_by,
                    }
                )
                new_slots.extend(slot_rows(drop_id, quota, per_account, account_id, numbers))
            if win_rows:
                await check_slots_by_key(conn)
                await conn.execute(insert(wins), win_rows)
                await conn.execute(insert(slots), new_slots)
            if waiting:
                await conn.execute(
                    insert(waitlist),
                    [
                        {
                            "drop_id": drop_id,
                            "position": pos,
                            "account_id": account_id,
                            "units": units,
                            "added_at": now,
                        }
                        for pos, (account_id, units) in enumerate(waiting, start=1)
                    ],
                )
            return True

    # -- deadlines and the waiting list ------------------------------------------------------

    async def lapse(self, drop_id: int, account_id: int, now: datetime) -> WinRow | None:
        """Take back an unconfirmed win whose deadline passed; its units return to the pool."""
        async with self.engine.begin() as conn:
            r = (
                await conn.execute(
                    select(wins).where(
                        wins.c.drop_id == drop_id,
                        wins.c.account_id == account_id,
                        wins.c.confirmed_at.is_(None),
                        wins.c.confirm_by <= now,
                    )
                )
            ).first()
            if r is None:
                return None
            win = win_row(r)
            await lapse_win(conn, drop_id, account_id, win.code, win.units, "deadline", now)
            await publish_drop(conn, drop_id)
            return win

    async def promote(
        self,
        drop_id: int,
        quota: int,
        per_account: int,
        new_code: NewCode,
        now: datetime,
        confirm_by: datetime,
    ) -> list[Promotion]:
        """Give free units to the waiting list, in order. [] when a concurrent writer took a
        slot first (the next run tries again)."""
        try:
            async with self.engine.begin() as conn:
                await lock_drop(conn, drop_id)
                free = await lowest_free(conn, drop_id, quota, quota)
                if not free:
                    return []
                queue = (
                    await conn.execute(
                        select(waitlist.c.position, waitlist.c.account_id, waitlist.c.units)
                        .where(waitlist.c.drop_id == drop_id, waitlist.c.promoted_at.is_(None))
                        .order_by(waitlist.c.position)
                    )
                ).all()
                out: list[Promotion] = []
                for entry in queue:
                    if not free:
                        break
                    units = min(int(entry.units), len(free))
                    numbers, free = free[:units], free[units:]
                    code = new_code()
                    await conn.execute(
                        update(waitlist)
                        .where(waitlist.c.drop_id == drop_id, waitlist.c.position == entry.position)
                        .values(promoted_at=now)
                    )
                    await insert_win(
                        conn, drop_id, quota, per_account, entry.account_id, numbers, code,
                        "waitlist", now, confirm_by,
                    )  # fmt: skip
                    out.append(Promotion(entry.account_id, code, units, confirm_by))
                if out:
                    await publish_drop(conn, drop_id)
                return out
        except IntegrityError:
            return []

    # -- export --------------------------------------------------------------------------------

    async def export(self, drop_id: int) -> list[ExportRow]:
        async with self.engine.connect() as conn:
            held: dict[int, list[int]] = {}
            for r in await conn.execute(
                select(slots.c.account_id, slots.c.slot)
                .where(slots.c.drop_id == drop_id)
                .order_by(slots.c.slot)
            ):
                held.setdefault(int(r.account_id), []).append(int(r.slot))
            rows = await conn.execute(
                select(wins).where(wins.c.drop_id == drop_id).order_by(wins.c.won_at, wins.c.code)
            )
            out = []
            for r in rows:
                w = win_row(r)
                out.append(
                    ExportRow(
                        w.account_id,
                        w.code,
                        w.units,
                        w.source,
                        w.won_at,
                        w.confirm_by,
                        w.confirmed_at,
                        held.get(w.account_id, []),
                    )
                )
            out.sort(key=lambda e: e.slots[0] if e.slots else 0)
            return out

    async def winners(self, drop_id: int) -> list[tuple[int, int]]:
        """(account, units) of every win (for checks and verification)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(wins.c.account_id, wins.c.units).where(wins.c.drop_id == drop_id)
            )
            return [(int(r.account_id), int(r.units)) for r in rows]

    async def waiting_accounts(self, drop_id: int) -> list[tuple[int, int]]:
        """(account, place) of everyone still waiting, in order."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(waitlist.c.account_id)
                .where(waitlist.c.drop_id == drop_id, waitlist.c.promoted_at.is_(None))
                .order_by(waitlist.c.position)
            )
            return [(int(r.account_id), i) for i, r in enumerate(rows, start=1)]
