"""F-codes: priority codes that guarantee one unit of a drop to whoever redeems them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.drops.changes import publish_drop
from storage.drops.schema import fcodes, reservations, slots, waitlist, wins
from storage.drops.slots import insert_win, lock_drop, lowest_free
from storage.util import insert_ignore

NewCode = Callable[[], str]


class FcodeQueries:
    """Issuing and redeeming F-codes; part of `WinsRepo`."""

    engine: AsyncEngine

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
            await lock_drop(conn, drop_id)
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
        await lock_drop(conn, drop_id)
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
        await publish_drop(conn, drop_id, reservations=True)
        return "won"

    async def unused_fcodes(self, drop_id: int) -> int:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(func.count()).where(fcodes.c.drop_id == drop_id, fcodes.c.used_at.is_(None))
            )
            return int(r.scalar_one())
