"""The participation ledger: credited contributions per community, sync state, account aliases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.core.schema import communities
from storage.participation.schema import (
    participation_aliases as aliases,
)
from storage.participation.schema import (
    participation_grants as grants,
)
from storage.participation.schema import (
    participation_ledger as ledger,
)
from storage.participation.schema import (
    participation_state as state,
)
from storage.participation.schema import (
    participation_tier_members as tier_members,
)
from storage.util import insert_ignore

CHUNK = 500


@dataclass(frozen=True)
class LedgerRow:
    id: int
    account_id: int
    kind: str
    ref: str
    at: datetime
    day: date
    counted: bool
    points: int

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.account_id, self.kind, self.ref)


@dataclass(frozen=True)
class NewRow:
    account_id: int
    kind: str
    ref: str
    at: datetime
    day: date
    counted: bool
    points: int


@dataclass(frozen=True)
class RowChange:
    id: int
    at: datetime
    day: date
    counted: bool
    points: int


@dataclass(frozen=True)
class Total:
    account_id: int
    points: int
    reached_at: datetime  # the latest contribution that earned points (ties: who got there first)


@dataclass(frozen=True)
class Grant:
    """Points an owner granted (positive) or deducted (negative) by hand."""

    points: int
    reason: str
    granted_by: int
    at: datetime


@dataclass(frozen=True)
class SyncState:
    synced_until: datetime | None
    reconciled_at: datetime | None


def _row(r: Any) -> LedgerRow:
    return LedgerRow(
        int(r.id),
        int(r.account_id),
        str(r.kind),
        str(r.ref),
        r.at,
        r.day,
        bool(r.counted),
        int(r.points),
    )


_COLUMNS = (
    ledger.c.id,
    ledger.c.account_id,
    ledger.c.kind,
    ledger.c.ref,
    ledger.c.at,
    ledger.c.day,
    ledger.c.counted,
    ledger.c.points,
)


async def _insert_many(conn: AsyncConnection, community_id: int, rows: Sequence[NewRow]) -> None:
    """Insert ledger rows, skipping keys another process inserted first."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ledger).on_conflict_do_nothing()
    for start in range(0, len(rows), CHUNK):
        await conn.execute(
            stmt,
            [
                {
                    "community_id": community_id,
                    "account_id": r.account_id,
                    "kind": r.kind,
                    "ref": r.ref,
                    "at": r.at,
                    "day": r.day,
                    "counted": r.counted,
                    "points": r.points,
                }
                for r in rows[start : start + CHUNK]
            ],
        )


class LedgerRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- reading the ledger ------------------------------------------------------------------

    async def rows(self, community_id: int) -> list[LedgerRow]:
        async with self.engine.connect() as conn:
            res = await conn.execute(select(*_COLUMNS).where(ledger.c.community_id == community_id))
            return [_row(r) for r in res]

    async def rows_of(self, community_id: int, account_ids: Iterable[int]) -> list[LedgerRow]:
        ids = sorted(set(account_ids))
        out: list[LedgerRow] = []
        async with self.engine.connect() as conn:
            for start in range(0, len(ids), CHUNK):
                res = await conn.execute(
                    select(*_COLUMNS).where(
                        ledger.c.community_id == community_id,
                        ledger.c.account_id.in_(ids[start : start + CHUNK]),
                    )
                )
                out.extend(_row(r) for r in res)
        return out

    async def totals(
        self,
        community_id: int,
        start: datetime | None = None,
        end: datetime | None = None,
        account_ids: Sequence[int] | None = None,
    ) -> list[Total]:
        """Points per member in [start, end) (all time when open), members with points only."""
        out: list[Total] = []
        async with self.engine.connect() as conn:
            if account_ids is None:
                q, *_ = self._sums(community_id, start, end)
                res = await conn.execute(q)
                out = [Total(int(r.account_id), int(r.points), r.reached_at) for r in res]
            else:
                ids = sorted(set(account_ids))
                for i in range(0, len(ids), CHUNK):
                    q, *_ = self._sums(community_id, start, end, ids[i : i + CHUNK])
                    res = await conn.execute(q)
                    out.extend(Total(int(r.account_id), int(r.points), r.reached_at) for r in res)
        return out

    def _sums(
        self,
        community_id: int,
        start: datetime | None,
        end: datetime | None,
        account_ids: Sequence[int] | None = None,
    ) -> Any:
        """Per member: the ledger's points plus the points granted or deducted by hand, for the
        members whose sum is above zero. Returns (query, sum, reached_at, account) columns."""
        earned = select(
            ledger.c.account_id.label("account_id"),
            ledger.c.points.label("points"),
            ledger.c.at.label("at"),
        ).where(ledger.c.community_id == community_id, ledger.c.points > 0)
        given = select(
            grants.c.account_id.label("account_id"),
            grants.c.points.label("points"),
            grants.c.at.label("at"),
        ).where(grants.c.community_id == community_id)
        if start is not None:
            earned, given = earned.where(ledger.c.at >= start), given.where(grants.c.at >= start)
        if end is not None:
            earned, given = earned.where(ledger.c.at < end), given.where(grants.c.at < end)
        if account_ids is not None:
            earned = earned.where(ledger.c.account_id.in_(list(account_ids)))
            given = given.where(grants.c.account_id.in_(list(account_ids)))
        rows = earned.union_all(given).subquery()
        points = func.sum(rows.c.points)
        reached = func.max(rows.c.at)
        q = (
            select(rows.c.account_id, points.label("points"), reached.label("reached_at"))
            .group_by(rows.c.account_id)
            .having(points > 0)
        )
        return q, points, reached, rows.c.account_id

    async def leaders(
        self,
        community_id: int,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        *,
        points: int | None = None,
    ) -> list[Total]:
        """The top of the period in leaderboard order (points, then who reached them first);
        with `points`, only the members who have exactly that many."""
        q, total, reached, account = self._sums(community_id, start, end)
        if points is not None:
            q = q.having(total == points)
        q = q.order_by(total.desc(), reached, account).limit(limit)
        async with self.engine.connect() as conn:
            return [
                Total(int(r.account_id), int(r.points), r.reached_at) for r in await conn.execute(q)
            ]

    async def ranked_count(
        self,
        community_id: int,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        above: int | None = None,
    ) -> int:
        """Members with points in the period (with `above`: with more than that)."""
        q, total, *_ = self._sums(community_id, start, end)
        if above is not None:
            q = q.having(total > above)
        async with self.engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(q.subquery()))).scalar() or 0
            )

    async def breakdown(self, community_id: int, account_id: int) -> dict[str, tuple[int, int]]:
        """kind → (contributions, points) of one member."""
        q = (
            select(ledger.c.kind, func.count().label("n"), func.sum(ledger.c.points).label("p"))
            .where(ledger.c.community_id == community_id, ledger.c.account_id == account_id)
            .group_by(ledger.c.kind)
        )
        async with self.engine.connect() as conn:
            return {str(r.kind): (int(r.n), int(r.p or 0)) for r in await conn.execute(q)}

    async def grant(
        self,
        community_id: int,
        account_id: int,
        points: int,
        reason: str,
        actor: int,
        now: datetime,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(grants).values(
                    community_id=community_id,
                    account_id=account_id,
                    points=points,
                    reason=reason,
                    granted_by=actor,
                    at=now,
                )
            )

    async def grants_of(
        self, community_id: int, account_id: int, limit: int = 5
    ) -> tuple[list[Grant], int, int]:
        """The latest grants and deductions of one member, how many there are, and their sum."""
        where = (grants.c.community_id == community_id, grants.c.account_id == account_id)
        async with self.engine.connect() as conn:
            res = await conn.execute(
                select(grants)
                .where(*where)
                .order_by(grants.c.at.desc(), grants.c.id.desc())
                .limit(limit)
            )
            latest = [Grant(int(r.points), str(r.reason), int(r.granted_by), r.at) for r in res]
            n, total = (
                await conn.execute(select(func.count(), func.sum(grants.c.points)).where(*where))
            ).one()
        return latest, int(n or 0), int(total or 0)

    async def accounts(self, community_id: int) -> set[int]:
        """Everyone with a ledger row, a grant or a tier in the community."""
        async with self.engine.connect() as conn:
            res = await conn.execute(
                select(ledger.c.account_id)
                .where(ledger.c.community_id == community_id)
                .union(
                    select(tier_members.c.account_id).where(
                        tier_members.c.community_id == community_id
                    ),
                    select(grants.c.account_id).where(grants.c.community_id == community_id),
                )
            )
            return {int(r[0]) for r in res}

    # -- writing the ledger ------------------------------------------------------------------

    async def apply(
        self,
        community_id: int,
        inserts: Sequence[NewRow] = (),
        changes: Sequence[RowChange] = (),
        deletes: Sequence[int] = (),
    ) -> None:
        """One transaction: new rows (a key another process added first is skipped), changed
        rows, and rows whose contribution is gone."""
        async with self.engine.begin() as conn:
            for start in range(0, len(deletes), CHUNK):
                await conn.execute(
                    delete(ledger).where(
                        ledger.c.community_id == community_id,
                        ledger.c.id.in_(list(deletes[start : start + CHUNK])),
                    )
                )
            for ch in changes:
                await conn.execute(
                    update(ledger)
                    .where(ledger.c.id == ch.id)
                    .values(at=ch.at, day=ch.day, counted=ch.counted, points=ch.points)
                )
            await _insert_many(conn, community_id, inserts)

    async def replace(self, community_id: int, rows: Sequence[NewRow], now: datetime) -> None:
        """Rebuild a community's ledger in one transaction (readers see the old or the new)."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(ledger).where(ledger.c.community_id == community_id))
            await _insert_many(conn, community_id, rows)
            await _set_state(conn, community_id, synced_until=now, reconciled_at=now)

    # -- sync state --------------------------------------------------------------------------

    async def communities(self) -> list[int]:
        async with self.engine.connect() as conn:
            res = await conn.execute(select(communities.c.id).order_by(communities.c.id))
            return [int(r.id) for r in res]

    async def state(self, community_id: int) -> SyncState:
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(select(state).where(state.c.community_id == community_id))
            ).first()
            return SyncState(r.synced_until, r.reconciled_at) if r else SyncState(None, None)

    async def set_state(self, community_id: int, **values: datetime | None) -> None:
        async with self.engine.begin() as conn:
            await _set_state(conn, community_id, **values)

    async def claim_reconcile(self, community_id: int, now: datetime, every: timedelta) -> bool:
        """True for one caller once `every` has passed since the last reconciliation (or never
        was one), across processes."""
        current = await self.state(community_id)
        if current.reconciled_at is not None and current.reconciled_at > now - every:
            return False  # not due: no write
        async with self.engine.begin() as conn:
            await insert_ignore(conn, state, {"community_id": community_id})
            res = await conn.execute(
                update(state)
                .where(
                    state.c.community_id == community_id,
                    or_(state.c.reconciled_at.is_(None), state.c.reconciled_at <= now - every),
                )
                .values(reconciled_at=now)
            )
            return bool(res.rowcount)

    # -- linked accounts ---------------------------------------------------------------------

    async def aliases(self) -> list[tuple[int, int]]:
        async with self.engine.connect() as conn:
            res = await conn.execute(select(aliases.c.from_account, aliases.c.to_account))
            return [(int(r.from_account), int(r.to_account)) for r in res]


async def _set_state(conn: AsyncConnection, community_id: int, **values: datetime | None) -> None:
    await insert_ignore(conn, state, {"community_id": community_id})
    await conn.execute(update(state).where(state.c.community_id == community_id).values(**values))


async def merge_participation_accounts(
    conn: AsyncConnection, from_id: int, to_id: int, now: datetime
) -> None:
    """One person, one record: the ledger rows of `from_id` become `to_id`'s (a contribution both
    accounts made, same kind and ref, counts once), the higher tier is kept, and contributions
    still reported under `from_id` count for `to_id` from now on. The communities concerned are
    marked for a full reconciliation (the daily cap may now apply differently).

    Merging back (`to_id` was merged into `from_id` before) voids that earlier alias instead of
    pointing `to_id` at itself."""
    await conn.execute(
        delete(aliases).where(aliases.c.from_account == to_id, aliases.c.to_account == from_id)
    )
    await conn.execute(
        update(aliases).where(aliases.c.to_account == from_id).values(to_account=to_id)
    )
    await insert_ignore(
        conn, aliases, {"from_account": from_id, "to_account": to_id, "created_at": now}
    )
    touched = {
        int(r.community_id)
        for r in await conn.execute(
            select(ledger.c.community_id)
            .where(ledger.c.account_id == from_id)
            .union(select(tier_members.c.community_id).where(tier_members.c.account_id == from_id))
        )
    }
    other = ledger.alias("other")
    both = (
        select(other.c.id)
        .where(
            other.c.account_id == to_id,
            other.c.community_id == ledger.c.community_id,
            other.c.kind == ledger.c.kind,
            other.c.ref == ledger.c.ref,
        )
        .exists()
    )
    await conn.execute(delete(ledger).where(ledger.c.account_id == from_id, both))
    await conn.execute(
        update(ledger).where(ledger.c.account_id == from_id).values(account_id=to_id)
    )
    await conn.execute(
        update(grants).where(grants.c.account_id == from_id).values(account_id=to_id)
    )
    # Tiers: keep the target's row where it has one; the next evaluation settles the tier.
    mine = select(tier_members.c.community_id).where(tier_members.c.account_id == to_id)
    await conn.execute(
        delete(tier_members).where(
            tier_members.c.account_id == from_id, tier_members.c.community_id.in_(mine)
        )
    )
    await conn.execute(
        update(tier_members).where(tier_members.c.account_id == from_id).values(account_id=to_id)
    )
    if touched:
        await conn.execute(
            update(state)
            .where(state.c.community_id.in_(sorted(touched)))
            .values(reconciled_at=None)
        )
