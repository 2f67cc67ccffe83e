"""Persistence for the flash claim engine: load a drop's state, write a batch in one transaction.

The engine decides in memory and calls `commit` once per small batch. The database arbitrates
between processes: a batch that collides with another writer (a slot or an account taken,
a waiting-list place used) is rolled back whole and raises `BatchCollision`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.bulk import Constant, insert_rows
from storage.core.outbox import NewMessage, add_in
from storage.drops.schema import drops, lapses, reservations, slots, waitlist, wins
from storage.drops.slots import check_slots_by_key
from storage.engine import Checkpointer
from storage.platform.schema import processed_events
from storage.types import UTCDateTime


class BatchCollision(Exception):
    """A batch collided with another writer (a unique slot, one win per account, one waiting-list
    place): the database refused it whole."""


@dataclass(slots=True)
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
    bitmap: bytearray | None = None  # the reserved ids as bits, when the engine keeps one


@dataclass
class DropWrites:
    """What one batch adds to one drop: rows as tuples, the values they share once."""

    quota: int
    per_account: int
    confirm_by: datetime
    wins: list[tuple[int, str, int]] = field(default_factory=list)  # account, code, units
    slots: list[tuple[int, int, int]] = field(default_factory=list)  # slot, account, unit
    waitlist: list[tuple[int, int, int]] = field(default_factory=list)  # position, account, units
    attempts: int = 0
    sold_out: bool = False


@dataclass
class BatchWrite:
    """Rows one batch adds, across drops, and what commits with them: the private messages
    that carry the winners' codes, and the receipts of the deliveries that caused them."""

    drops: dict[int, DropWrites] = field(default_factory=dict)
    messages: list[NewMessage] = field(default_factory=list)
    receipts: list[tuple[str, str]] = field(default_factory=list)  # (platform, event id)

    def empty(self) -> bool:
        return not (self.drops or self.messages or self.receipts)


class ClaimStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._checkpointer = Checkpointer.of(engine)

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
                reserved = array("q", sorted(await _reserved_ids(conn, drop_id)))
                multi = {
                    int(r.account_id): int(r.units)
                    for r in await conn.execute(
                        select(reservations.c.account_id, reservations.c.units).where(
                            reservations.c.drop_id == drop_id, reservations.c.units > 1
                        )
                    )
                }
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

    @property
    def checkpoints(self) -> bool:
        """Whether `checkpoint` does anything here (a SQLite file)."""
        return self._checkpointer is not None

    async def checkpoint(self) -> None:
        """Copy the committed batches back into the database file beside the batches that
        follow (a SQLite file; `storage.engine.Checkpointer`)."""
        if self._checkpointer is not None:
            await self._checkpointer.run()

    @property
    def checkpoint_runs(self) -> int:
        return 0 if self._checkpointer is None else self._checkpointer.runs

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()

    async def commit(self, batch: BatchWrite, now: datetime) -> None:
        """Write one batch atomically, a few set-based statements per drop;
        `BatchCollision` (nothing of it was written) when it collides with another writer."""
        try:
            async with self.engine.begin() as conn:
                for drop_id in sorted(batch.drops):
                    await _write_drop(conn, drop_id, batch.drops[drop_id], now)
                await add_in(conn, batch.messages, now)
                await insert_rows(
                    conn,
                    processed_events.name,
                    (("platform", "TEXT"), ("event_id", "TEXT")),
                    batch.receipts,
                    constants={"created_at": Constant(now, UTCDateTime())},
                    ignore_conflicts=True,
                )
        except IntegrityError as exc:
            raise BatchCollision(str(exc)) from exc


async def _reserved_ids(conn: AsyncConnection, drop_id: int) -> Iterable[int]:
    """Every account that reserved the drop, in one value: a million rows as rows would cost
    seconds of Python at drop time, while the burst waits."""
    if conn.dialect.name == "postgresql":
        q = "SELECT array_agg(account_id) FROM drop_reservations WHERE drop_id = :d"
        return (await conn.execute(text(q), {"d": drop_id})).scalar() or []
    q = "SELECT group_concat(account_id) FROM drop_reservations WHERE drop_id = :d"
    joined = (await conn.execute(text(q), {"d": drop_id})).scalar()
    return map(int, joined.split(",")) if joined else []


_WIN_COLUMNS = (("account_id", "INTEGER"), ("code", "TEXT"), ("units", "INTEGER"))
_SLOT_COLUMNS = (("slot", "INTEGER"), ("account_id", "INTEGER"), ("unit", "INTEGER"))
_WAIT_COLUMNS = (("position", "INTEGER"), ("account_id", "INTEGER"), ("units", "INTEGER"))


async def _write_drop(conn: AsyncConnection, drop_id: int, w: DropWrites, now: datetime) -> None:
    when = Constant(now, UTCDateTime())
    drop = Constant(drop_id)
    if w.wins:
        await check_slots_by_key(conn)
        await insert_rows(
            conn,
            wins.name,
            _WIN_COLUMNS,
            w.wins,
            constants={
                "drop_id": drop,
                "source": Constant("flash"),
                "won_at": when,
                "confirm_by": Constant(w.confirm_by, UTCDateTime()),
            },
        )
        await insert_rows(
            conn,
            slots.name,
            _SLOT_COLUMNS,
            w.slots,
            constants={
                "drop_id": drop,
                "quota": Constant(w.quota),
                "per_account": Constant(w.per_account),
            },
        )
    if w.waitlist:
        await insert_rows(
            conn,
            waitlist.name,
            _WAIT_COLUMNS,
            w.waitlist,
            constants={"drop_id": drop, "added_at": when},
        )
    values: dict[str, Any] = {"attempts": drops.c.attempts + w.attempts}
    if w.sold_out:
        values["sold_out_at"] = func.coalesce(drops.c.sold_out_at, literal(now, UTCDateTime()))
    if w.attempts or w.sold_out:
        await conn.execute(update(drops).where(drops.c.id == drop_id).values(**values))
