"""Wins outside the flash burst: F-codes, lottery draws, deadlines and the waiting list.

Every function that hands out units picks the lowest free slot numbers inside its transaction;
the schema (slot unique within 1..quota) makes a concurrent writer fail rather than oversell,
and the caller simply tries again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.schema.drops import drops, fcodes, lapses, reservations, slots, waitlist, wins
from storage.util import insert_ignore

NewCode = Callable[[], str]


@dataclass(frozen=True)
class WinRow:
    account_id: int
    code: str
    units: int
    source: str
    won_at: datetime
    confirm_by: datetime
    confirmed_at: datetime | None


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


def _win(r: object) -> WinRow:
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
    await conn.execute(
        insert(slots),
        [
            {
                "drop_id": drop_id,
                "slot": slot,
                "quota": quota,
                "per_account": per_account,
                "account_id": account_id,
                "unit": unit,
            }
            for unit, slot in enumerate(numbers, start=1)
        ],
    )


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


class WinsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def win_of(self, drop_id: int, account_id: int) -> WinRow | None:
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(wins).where(wins.c.drop_id == drop_id, wins.c.account_id == account_id)
                )
            ).first()
            return _win(r) if r else None

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

    # -- F-codes -------------------------------------------------------------------------------

    async def issue_fcodes(
        self,
        drop_id: int,
        quota: int,
        holders: list[int | None],
        new_code: NewCode,
        issued_by: int,
        now: datetime,
    ) -> list[tuple[int | None, str]] | None:
        """One code per holder (None: an unnamed code). A holder who already has an unused code
        for this drop gets it again. None when the codes would not fit in the quota."""
        async with self.engine.begin() as conn:
            await _lock_drop(conn, drop_id)
            taken = (
                await conn.execute(select(func.count()).where(slots.c.drop_id == drop_id))
            ).scalar_one()
            unused = (
                await conn.execute(
                    select(fcodes.c.account_id, fcodes.c.code).where(
                        fcodes.c.drop_id == drop_id, fcodes.c.used_at.is_(None)
                    )
                )
            ).all()
            existing = {r.account_id: r.code for r in unused if r.account_id is not None}
            fresh = [h for h in holders if h is None or h not in existing]
            if int(taken) + len(unused) + len(fresh) > quota:
                return None
            out: list[tuple[int | None, str]] = []
            for holder in holders:
                if holder is not None and holder in existing:
                    out.append((holder, existing[holder]))
                    continue
                code = new_code()
                await conn.execute(
                    insert(fcodes).values(
                        code=code,
                        drop_id=drop_id,
                        account_id=holder,
                        issued_by=issued_by,
                        issued_at=now,
                    )
                )
                if holder is not None:
                    existing[holder] = code
                out.append((holder, code))
            return out

    async def fcode_drop(self, code: str) -> int | None:
        async with self.engine.connect() as conn:
            r = await conn.execute(select(fcodes.c.drop_id).where(fcodes.c.code == code))
            value = r.scalar()
            return int(value) if value is not None else None

    async def redeem_fcode(
        self,
        code: str,
        drop_id: int,
        quota: int,
        per_account: int,
        account_id: int,
        win_code: str,
        now: datetime,
        confirm_by: datetime,
    ) -> str:
        """Use an F-code: the holder gets a reservation and one guaranteed unit at once.
        Returns "won", "again" (this account already used it), "used", "not_yours",
        "already_won" (the account holds a win without it) or "full"."""
        for _ in range(5):
            try:
                async with self.engine.begin() as conn:
                    return await self._redeem(
                        conn, code, drop_id, quota, per_account, account_id, win_code, now,
                        confirm_by,
                    )  # fmt: skip
            except IntegrityError:
                continue  # a slot was taken concurrently: look again
        return "full"

    async def _redeem(
        self,
        conn: AsyncConnection,
        code: str,
        drop_id: int,
        quota: int,
        per_account: int,
        account_id: int,
        win_code: str,
        now: datetime,
        confirm_by: datetime,
    ) -> str:
        await _lock_drop(conn, drop_id)
        row = (await conn.execute(select(fcodes).where(fcodes.c.code == code))).one()
        if row.used_by == account_id:
            return "again"
        if row.used_at is not None:
            return "used"
        if row.account_id is not None and row.account_id != account_id:
            return "not_yours"
        has_win = (
            await conn.execute(
                select(wins.c.code).where(
                    wins.c.drop_id == drop_id, wins.c.account_id == account_id
                )
            )
        ).first()
        if has_win is not None:
            return "already_won"
        numbers = await lowest_free(conn, drop_id, quota, 1)
        if not numbers:
            return "full"
        await conn.execute(
            update(fcodes).where(fcodes.c.code == code).values(used_by=account_id, used_at=now)
        )
        await insert_ignore(
            conn,
            reservations,
            {
                "drop_id": drop_id,
                "account_id": account_id,
                "units": 1,
                "reserved_at": now,
                "via_fcode": True,
            },
        )
        await insert_win(
            conn, drop_id, quota, per_account, account_id, numbers, win_code, "fcode", now,
            confirm_by,
        )  # fmt: skip
        await conn.execute(
            delete(waitlist).where(
                waitlist.c.drop_id == drop_id, waitlist.c.account_id == account_id
            )
        )
        return "won"

    async def unused_fcodes(self, drop_id: int) -> int:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(func.count()).where(fcodes.c.drop_id == drop_id, fcodes.c.used_at.is_(None))
            )
            return int(r.scalar_one())

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
            slot_rows: list[dict[str, Any]] = []
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
                slot_rows.extend(
                    {
                        "drop_id": drop_id,
                        "slot": slot,
                        "quota": quota,
                        "per_account": per_account,
                        "account_id": account_id,
                        "unit": unit,
                    }
                    for unit, slot in enumerate(numbers, start=1)
                )
            if win_rows:
                await conn.execute(insert(wins), win_rows)
                await conn.execute(insert(slots), slot_rows)
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
            win = _win(r)
            await lapse_win(conn, drop_id, account_id, win.code, win.units, "deadline", now)
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
                await _lock_drop(conn, drop_id)
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
                w = _win(r)
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


async def _lock_drop(conn: AsyncConnection, drop_id: int) -> None:
    """Serialize writers of one drop on PostgreSQL (SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(drops.c.id).where(drops.c.id == drop_id).with_for_update())
