"""Reservations: one per account and drop, with the units asked for; who entered a draw."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bulk import Constant, insert_rows
from storage.drops.drops import DropRow, drop_row
from storage.drops.schema import drops, reservations, wins
from storage.types import UTCDateTime
from storage.util import insert_ignore

# Each reservation beside its win in the drop, if any (no win: the win's columns are NULL).
_WITH_WINS = reservations.outerjoin(
    wins,
    and_(wins.c.drop_id == reservations.c.drop_id, wins.c.account_id == reservations.c.account_id),
)


class ReservationsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def reserve(self, drop_id: int, account_id: int, units: int, now: datetime) -> bool:
        """Reserve once per account: True when this call made the reservation."""
        async with self.engine.begin() as conn:
            return bool(
                await insert_ignore(
                    conn,
                    reservations,
                    {
                        "drop_id": drop_id,
                        "account_id": account_id,
                        "units": units,
                        "reserved_at": now,
                    },
                )
            )

    async def reserve_many(
        self, wanted: Sequence[tuple[int, int, int]], now: datetime
    ) -> list[bool]:
        """Reserve (drop, account, units) for many presses in one transaction: for each, True
        when it made the reservation (the first press of an account that had none; a second
        one, here or stored before, is False)."""
        async with self.engine.begin() as conn:
            stored: set[tuple[int, int]] = set()
            by_drop: dict[int, list[int]] = {}
            for drop_id, account_id, _units in wanted:
                by_drop.setdefault(drop_id, []).append(account_id)
            for drop_id, accounts in by_drop.items():
                for start in range(0, len(accounts), 5000):
                    part = accounts[start : start + 5000]
                    rows = await conn.execute(
                        select(reservations.c.account_id).where(
                            reservations.c.drop_id == drop_id,
                            reservations.c.account_id.in_(part),
                        )
                    )
                    stored.update((drop_id, int(a)) for a in rows.scalars())
            made: list[bool] = []
            rows_in: list[tuple[int, int, int]] = []
            for drop_id, account_id, units in wanted:
                key = (drop_id, account_id)
                if key in stored:
                    made.append(False)
                    continue
                stored.add(key)
                made.append(True)
                rows_in.append((drop_id, account_id, units))
            # A reservation another process stored meanwhile is kept (ON CONFLICT DO NOTHING).
            await insert_rows(
                conn,
                reservations.name,
                (("drop_id", "INTEGER"), ("account_id", "INTEGER"), ("units", "INTEGER")),
                rows_in,
                constants={"reserved_at": Constant(now, UTCDateTime())},
                ignore_conflicts=True,
            )
            return made

    async def unreserve(self, drop_id: int, account_id: int) -> bool:
        """Withdraw a reservation that has not won (the schema keeps a win's reservation)."""
        try:
            async with self.engine.begin() as conn:
                res = await conn.execute(
                    delete(reservations).where(
                        reservations.c.drop_id == drop_id, reservations.c.account_id == account_id
                    )
                )
                return bool(res.rowcount)
        except IntegrityError:
            return False

    async def reservation(self, drop_id: int, account_id: int) -> tuple[int, datetime] | None:
        """(units, reserved at) of the account's reservation."""
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(reservations.c.units, reservations.c.reserved_at).where(
                        reservations.c.drop_id == drop_id, reservations.c.account_id == account_id
                    )
                )
            ).first()
            return (int(r.units), r.reserved_at) if r else None

    async def mine(self, community_id: int, account_id: int) -> list[tuple[DropRow, int]]:
        """The account's reservations in the community: (drop, units reserved), newest first."""
        q = (
            select(drops, reservations.c.units.label("reserved_units"))
            .join(reservations, reservations.c.drop_id == drops.c.id)
            .where(drops.c.community_id == community_id, reservations.c.account_id == account_id)
            .order_by(drops.c.drop_at.desc())
        )
        async with self.engine.connect() as conn:
            return [(drop_row(r), int(r.reserved_units)) for r in await conn.execute(q)]

    async def reservation_times(
        self, community_id: int, since: datetime | None
    ) -> list[tuple[int, int, datetime]]:
        """(account, drop, reserved at) of every reservation in the community (contributions)."""
        q = (
            select(reservations.c.account_id, reservations.c.drop_id, reservations.c.reserved_at)
            .join(drops, drops.c.id == reservations.c.drop_id)
            .where(drops.c.community_id == community_id)
        )
        if since is not None:
            q = q.where(reservations.c.reserved_at >= since)
        async with self.engine.connect() as conn:
            return [(r.account_id, r.drop_id, r.reserved_at) for r in await conn.execute(q)]

    async def reservers(self, drop_id: int) -> list[int]:
        """Every account that reserved the drop (F-code holders included)."""
        q = select(reservations.c.account_id).where(reservations.c.drop_id == drop_id)
        async with self.engine.connect() as conn:
            return [int(a) for a in (await conn.execute(q)).scalars()]

    async def to_remind(self, drop_id: int) -> list[int]:
        """Reservers to remind before drop time: without a win (an F-code holder has their
        slot already) and who did not turn the reminder off, by account."""
        q = (
            select(reservations.c.account_id)
            .select_from(_WITH_WINS)
            .where(
                reservations.c.drop_id == drop_id,
                reservations.c.remind.is_(True),
                wins.c.account_id.is_(None),
            )
            .order_by(reservations.c.account_id)
        )
        async with self.engine.connect() as conn:
            return [int(a) for a in (await conn.execute(q)).scalars()]

    async def set_remind(self, drop_id: int, account_id: int, remind: bool) -> bool:
        """Turn a reserver's reminder on or off; False when they have no reservation."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(reservations)
                .where(reservations.c.drop_id == drop_id, reservations.c.account_id == account_id)
                .values(remind=remind)
            )
            return bool(res.rowcount)

    async def entrants(self, drop_id: int) -> list[tuple[int, int]]:
        """(account, units) of every reservation without a win, sorted by account."""
        q = (
            select(reservations.c.account_id, reservations.c.units)
            .select_from(_WITH_WINS)
            .where(reservations.c.drop_id == drop_id, wins.c.account_id.is_(None))
            .order_by(reservations.c.account_id)
        )
        async with self.engine.connect() as conn:
            return [(int(r.account_id), int(r.units)) for r in await conn.execute(q)]

    async def draw_entrants(self, drop_id: int, excluded_source: str) -> list[tuple[int, int]]:
        """After a draw: the entrants it used, i.e. every reservation but the wins from
        `excluded_source` (the F-codes, redeemed before the draw)."""
        q = (
            select(reservations.c.account_id, reservations.c.units)
            .select_from(_WITH_WINS)
            .where(
                reservations.c.drop_id == drop_id,
                or_(wins.c.source.is_(None), wins.c.source != excluded_source),
            )
            .order_by(reservations.c.account_id)
        )
        async with self.engine.connect() as conn:
            return [(int(r.account_id), int(r.units)) for r in await conn.execute(q)]
