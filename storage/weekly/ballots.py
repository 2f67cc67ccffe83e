"""Four-grid ballots and anticipation picks: one per account per item, changeable until the report
closes; tallies for the results; who filled in what (participation); account merging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, SmallInteger, and_, bindparam, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.weekly.digest_subscribers import merge_subscriber_accounts
from storage.weekly.schema import GRIDS, REPORT_OPEN, release_items
from storage.weekly.schema import fourgrid_anticipations as picks
from storage.weekly.schema import fourgrid_ballots as ballots
from storage.weekly.schema import fourgrid_reports as reports


@dataclass(frozen=True)
class Ballot:
    community_id: int
    report_id: int
    item_id: int
    account_id: int
    grid: int
    at: datetime


@dataclass(frozen=True)
class Participation:
    account_id: int
    report_id: int
    at: datetime  # the first ballot in that report


def _insert(conn: AsyncConnection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _open_report(report_id: int, now: datetime, community_id: int | None = None) -> Any:
    cond = and_(
        reports.c.id == report_id,
        reports.c.status == REPORT_OPEN,
        reports.c.closes_at > now,
    )
    return cond if community_id is None else and_(cond, reports.c.community_id == community_id)


def _cast_statement(dialect: str) -> Any:
    """INSERT … SELECT … ON CONFLICT DO UPDATE with bind parameters, run for many ballots at once
    (executemany): a row is written only while the report (of that community) is open and the
    item is one of its items."""
    at = bindparam("at", type_=ballots.c.updated_at.type)
    source = (
        select(
            bindparam("item_id", type_=Integer),
            bindparam("account_id", type_=Integer),
            bindparam("report_id", type_=Integer),
            bindparam("grid", type_=SmallInteger),
            at,
            at,
        )
        .select_from(
            reports.join(release_items, release_items.c.release_id == reports.c.release_id)
        )
        .where(
            reports.c.id == bindparam("report_id"),
            reports.c.community_id == bindparam("community_id", type_=Integer),
            reports.c.status == REPORT_OPEN,
            reports.c.closes_at > at,
            release_items.c.id == bindparam("item_id"),
        )
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ballots).from_select(
        ["item_id", "account_id", "report_id", "grid", "created_at", "updated_at"], source
    )
    return stmt.on_conflict_do_update(
        index_elements=[ballots.c.item_id, ballots.c.account_id],
        set_={"grid": stmt.excluded.grid, "updated_at": stmt.excluded.updated_at},
    )


_CAST = {name: _cast_statement(name) for name in ("sqlite", "postgresql")}


class BallotRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def cast(self, ballot: Ballot) -> bool:
        """Put an item in a grid (or move it); False when the report does not take it."""
        return (await self.cast_many([ballot]))[0]

    async def cast_many(self, batch: Sequence[Ballot]) -> list[bool]:
        """Several ballots in one transaction and one round trip (group commit). Each is written
        only while its report (of that community) accepts ballots and the item is one of the
        report's; the answer per ballot says which were."""
        if not batch:
            return []
        report_ids = sorted({b.report_id for b in batch})
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # A closing report waits for ballots in flight, and they for it.
                await conn.execute(
                    select(reports.c.id)
                    .where(reports.c.id.in_(report_ids))
                    .order_by(reports.c.id)
                    .with_for_update(read=True)
                )
            await conn.execute(
                _CAST[conn.dialect.name],
                [
                    {
                        "item_id": b.item_id,
                        "account_id": b.account_id,
                        "report_id": b.report_id,
                        "community_id": b.community_id,
                        "grid": b.grid,
                        "at": b.at,
                    }
                    for b in batch
                ],
            )
            # Still in the transaction that wrote them (the write holds SQLite's lock; PostgreSQL
            # holds the reports' share locks): the reports are as the INSERT saw them.
            open_reports = {
                r.id: r
                for r in await conn.execute(
                    select(
                        reports.c.id,
                        reports.c.community_id,
                        reports.c.release_id,
                        reports.c.status,
                        reports.c.closes_at,
                    ).where(reports.c.id.in_(report_ids))
                )
            }
            rows = await conn.execute(
                select(release_items.c.id, release_items.c.release_id).where(
                    release_items.c.id.in_(sorted({b.item_id for b in batch}))
                )
            )
            item_release = {int(i): int(r) for i, r in rows}
        out = []
        for b in batch:
            r = open_reports.get(b.report_id)
            out.append(
                r is not None
                and r.community_id == b.community_id
                and r.status == REPORT_OPEN
                and r.closes_at > b.at
                and item_release.get(b.item_id) == r.release_id
            )
        return out

    async def anticipate(
        self, report_id: int, account_id: int, suggestion_id: int, now: datetime
    ) -> bool:
        """The fan's one most anticipated suggestion for this report (replaces an earlier pick)."""
        async with self.engine.begin() as conn:
            source = select(
                literal(report_id),
                literal(account_id),
                literal(suggestion_id),
                literal(now, picks.c.updated_at.type),
            ).where(select(reports.c.id).where(_open_report(report_id, now)).exists())
            stmt = _insert(conn, picks).from_select(
                ["report_id", "account_id", "suggestion_id", "updated_at"], source
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[picks.c.report_id, picks.c.account_id],
                set_={
                    "suggestion_id": stmt.excluded.suggestion_id,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            res = await conn.execute(stmt)
            return bool(res.rowcount)

    async def mine(self, report_id: int, account_id: int) -> tuple[dict[int, int], int | None]:
        """A fan's own ballots (item → grid) and pick: shown to that fan only."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ballots.c.item_id, ballots.c.grid).where(
                    ballots.c.report_id == report_id, ballots.c.account_id == account_id
                )
            )
            mine = {int(r.item_id): int(r.grid) for r in rows}
            pick = (
                await conn.execute(
                    select(picks.c.suggestion_id).where(
                        picks.c.report_id == report_id, picks.c.account_id == account_id
                    )
                )
            ).scalar()
            return mine, (int(pick) if pick is not None else None)

    # -- results ------------------------------------------------------------------------------

    async def tallies(self, report_id: int) -> dict[int, list[int]]:
        """item → [count per grid], computed in the database."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ballots.c.item_id, ballots.c.grid, func.count())
                .where(ballots.c.report_id == report_id)
                .group_by(ballots.c.item_id, ballots.c.grid)
            )
            out: dict[int, list[int]] = {}
            for item_id, grid, count in rows:
                out.setdefault(int(item_id), [0] * GRIDS)[int(grid)] = int(count)
            return out

    async def turnout(self, report_id: int) -> int:
        """How many fans put at least one item in a grid."""
        counts = await self.turnouts([report_id])
        return counts.get(report_id, 0)

    async def turnouts(self, report_ids: list[int]) -> dict[int, int]:
        if not report_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ballots.c.report_id, func.count(func.distinct(ballots.c.account_id)))
                .where(ballots.c.report_id.in_(report_ids))
                .group_by(ballots.c.report_id)
            )
            return {int(rid): int(n) for rid, n in rows}

    async def anticipated(self, report_id: int, limit: int = 5) -> list[tuple[int, int]]:
        """(suggestion id, picks), most picked first."""
        n = func.count().label("n")
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(picks.c.suggestion_id, n)
                .where(picks.c.report_id == report_id)
                .group_by(picks.c.suggestion_id)
                .order_by(n.desc(), picks.c.suggestion_id)
                .limit(limit)
            )
            return [(int(sid), int(count)) for sid, count in rows]

    # -- participation and linked accounts ----------------------------------------------------

    async def participations(
        self, community_id: int, since: datetime | None
    ) -> list[Participation]:
        """One row per fan per report they filled in (at least one ballot)."""
        first = func.min(ballots.c.created_at).label("at")
        stmt = (
            select(ballots.c.account_id, ballots.c.report_id, first)
            .join(reports, reports.c.id == ballots.c.report_id)
            .where(reports.c.community_id == community_id)
            .group_by(ballots.c.account_id, ballots.c.report_id)
        )
        if since is not None:
            stmt = stmt.having(first >= since)
        async with self.engine.connect() as conn:
            rows = await conn.execute(stmt.order_by(ballots.c.report_id, ballots.c.account_id))
            return [Participation(int(a), int(r), at) for a, r, at in rows]

    @staticmethod
    async def merge_accounts(conn: AsyncConnection, from_account: int, to_account: int) -> None:
        """Re-point one account's ballots and picks onto another. Where both accounts acted on
        the same item (or report), the more recent choice is kept, so the person counts once."""
        await _merge(conn, ballots, ("item_id",), from_account, to_account)
        await _merge(conn, picks, ("report_id",), from_account, to_account)
        await merge_subscriber_accounts(conn, from_account, to_account)


async def _merge(
    conn: AsyncConnection, table: Any, keys: tuple[str, ...], from_account: int, to_account: int
) -> None:
    stamp = "updated_at"
    cols = [table.c[k] for k in keys]
    theirs = (
        await conn.execute(select(*cols, table.c[stamp]).where(table.c.account_id == from_account))
    ).all()
    if not theirs:
        return
    ours = {
        tuple(r[:-1]): r[-1]
        for r in await conn.execute(
            select(*cols, table.c[stamp]).where(table.c.account_id == to_account)
        )
    }
    for row in theirs:
        key, when = tuple(row[:-1]), row[-1]
        if key not in ours:
            continue
        loser = from_account if ours[key] >= when else to_account
        cond = [c == v for c, v in zip(cols, key, strict=True)]
        await conn.execute(delete(table).where(table.c.account_id == loser, *cond))
    await conn.execute(
        update(table).where(table.c.account_id == from_account).values(account_id=to_account)
    )
