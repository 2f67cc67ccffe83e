"""The drops themselves (what, how many, when, in which mode) and their live counts. Reservations
are in `storage.drops.reservations`, wins in `storage.drops.wins`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.drops.changes import publish_drop
from storage.drops.schema import drops, reservations, slots, waitlist, wins
from storage.util import new_id


@dataclass(frozen=True)
class DropRow:
    id: int
    community_id: int
    created_by: int
    name: str
    description: str
    mode: str
    quota: int
    per_account: int
    waitlist: int
    opens_at: datetime
    closes_at: datetime
    drop_at: datetime
    confirm_seconds: int
    roles: list[str] | None
    min_days: int
    min_score: int
    tiers: list[str] | None
    seed: str
    commitment: str
    entrants_hash: str | None
    entrants_count: int | None
    drawn_slots: int | None
    drawn_at: datetime | None
    cancelled_at: datetime | None
    opened_at: datetime | None
    started_at: datetime | None
    sold_out_at: datetime | None
    attempts: int
    status_at: datetime | None
    status_sig: str | None
    created_at: datetime
    updated_at: datetime


_FIELDS = [f.name for f in fields(DropRow)]


def drop_row(r: Any) -> DropRow:
    m = r._mapping
    return DropRow(**{name: m[name] for name in _FIELDS})


@dataclass(frozen=True)
class DropCounts:
    reservations: int
    reserved_units: int
    taken: int  # units handed out (slots in use)
    winners: int
    confirmed: int
    waiting: int  # on the waiting list, not yet promoted


class DropsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self, values: dict[str, Any], now: datetime) -> DropRow:
        async with self.engine.begin() as conn:
            res = await conn.execute(insert(drops).values(**values, created_at=now, updated_at=now))
            drop_id = new_id(res)
            r = (await conn.execute(select(drops).where(drops.c.id == drop_id))).one()
            return drop_row(r)

    async def get(self, drop_id: int, community_id: int | None = None) -> DropRow | None:
        q = select(drops).where(drops.c.id == drop_id)
        if community_id is not None:
            q = q.where(drops.c.community_id == community_id)
        async with self.engine.connect() as conn:
            r = (await conn.execute(q)).first()
            return drop_row(r) if r else None

    async def of_community(
        self, community_id: int, *, since: datetime | None = None
    ) -> list[DropRow]:
        """The community's drops, soonest first; `since` hides drops that dropped before it."""
        q = select(drops).where(drops.c.community_id == community_id)
        if since is not None:
            q = q.where(drops.c.drop_at >= since, drops.c.cancelled_at.is_(None))
        async with self.engine.connect() as conn:
            return [drop_row(r) for r in await conn.execute(q.order_by(drops.c.drop_at))]

    async def active(self, now: datetime, horizon: datetime) -> list[DropRow]:
        """Drops that may have work due: not cancelled, opened by now, dropped after `horizon`."""
        q = select(drops).where(
            drops.c.cancelled_at.is_(None), drops.c.opens_at <= now, drops.c.drop_at >= horizon
        )
        async with self.engine.connect() as conn:
            return [drop_row(r) for r in await conn.execute(q.order_by(drops.c.id))]

    async def update(self, drop_id: int, values: dict[str, Any], now: datetime) -> DropRow | None:
        """Change a drop; None when the database refuses (e.g. a quota below slots in use)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(drops).where(drops.c.id == drop_id).values(**values, updated_at=now)
                )
                await publish_drop(conn, drop_id)
        except IntegrityError:
            return None
        return await self.get(drop_id)

    async def mark(self, drop_id: int, column: str, now: datetime, **extra: Any) -> bool:
        """Set a phase column once (when it is still empty); True for the one caller who did."""
        col = drops.c[column]
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(drops)
                .where(drops.c.id == drop_id, col.is_(None))
                .values({column: now, **extra})
            )
            if res.rowcount:
                await publish_drop(conn, drop_id)
            return bool(res.rowcount)

    async def set_status(self, drop_id: int, now: datetime, sig: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(drops).where(drops.c.id == drop_id).values(status_at=now, status_sig=sig)
            )

    async def counts(self, drop_id: int) -> DropCounts:
        async with self.engine.connect() as conn:
            res_n, res_units = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.sum(reservations.c.units), 0)).where(
                        reservations.c.drop_id == drop_id
                    )
                )
            ).one()
            taken = (
                await conn.execute(select(func.count()).where(slots.c.drop_id == drop_id))
            ).scalar_one()
            winners, confirmed = (
                await conn.execute(
                    select(func.count(), func.count(wins.c.confirmed_at)).where(
                        wins.c.drop_id == drop_id
                    )
                )
            ).one()
            waiting = (
                await conn.execute(
                    select(func.count()).where(
                        waitlist.c.drop_id == drop_id, waitlist.c.promoted_at.is_(None)
                    )
                )
            ).scalar_one()
        return DropCounts(
            int(res_n), int(res_units), int(taken), int(winners), int(confirmed), int(waiting)
        )
