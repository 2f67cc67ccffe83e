"""Four-grid ballots and anticipation picks: one per account per item, changeable until the report
closes; tallies for the results; who filled in what (participation); account merging."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.weekly.digest_subscribers import merge_subscriber_accounts
from storage.weekly.schema import GRIDS, REPORT_OPEN
from storage.weekly.schema import fourgrid_anticipations as picks
from storage.weekly.schema import fourgrid_ballots as ballots
from storage.weekly.schema import fourgrid_reports as reports


class Ballot(NamedTuple):
    """One press of a grid button (a tuple: thousands of them are made a second in a burst)."""

    community_id: int
    report_id: int
    item_id: int
    account_id: int
    grid: int
    at: datetime
    # The delivery that carried the press, (platform, event id): recorded in `processed_events`
    # in the ballot's own transaction.
    receipt: tuple[str, str] | None = None


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


# A batch of ballots is written with statements whose parameters go to the driver as they are
# (plain values, no per-row processing by SQLAlchemy): in a burst that processing cost more than
# the database's own work. The datetimes are converted once per distinct value.

# SQLite: one conditional upsert per ballot, in order (executemany, one prepared statement): a
# row is written only while the report (of that community) is open at the ballot's time and the
# item is one of the report's. The rows of a batch are applied one after the other, so a fan who
# changes a grade twice in one batch ends as they would one transaction at a time.
_SQLITE_CAST = f"""
INSERT INTO fourgrid_ballots (item_id, account_id, report_id, grid, created_at, updated_at)
SELECT i.id, ?, r.id, ?, ?, ?
FROM fourgrid_reports AS r JOIN release_items AS i ON i.release_id = r.release_id
WHERE r.id = ? AND r.community_id = ? AND r.status = '{REPORT_OPEN}' AND r.closes_at > ?
  AND i.id = ?
ON CONFLICT (item_id, account_id)
  DO UPDATE SET grid = excluded.grid, updated_at = excluded.updated_at
"""

# PostgreSQL: one statement for the whole batch (arrays unnested), its rows decided beforehand
# under a share lock on the reports; a key appears at most once (PostgreSQL refuses to touch a
# row twice in one statement), with the fan's last grade and the time of their first ballot.
_POSTGRESQL_CAST = """
INSERT INTO fourgrid_ballots (item_id, account_id, report_id, grid, created_at, updated_at)
SELECT * FROM unnest($1::integer[], $2::integer[], $3::integer[], $4::smallint[],
                     $5::timestamptz[], $6::timestamptz[])
ON CONFLICT (item_id, account_id)
  DO UPDATE SET grid = excluded.grid, updated_at = excluded.updated_at
"""

_SQLITE_RECEIPTS = """
INSERT INTO processed_events (platform, event_id, created_at) VALUES (?, ?, ?)
ON CONFLICT (platform, event_id) DO NOTHING
"""

_POSTGRESQL_RECEIPTS = """
INSERT INTO processed_events (platform, event_id, created_at)
SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::timestamptz[])
ON CONFLICT (platform, event_id) DO NOTHING
"""


# The reports of a batch with their items, one row per (report, item), read in the batch's
# transaction. On PostgreSQL it takes a share lock on the reports: closing one waits for the
# ballots in flight, and they for it.
_SQLITE_STATE = """
SELECT r.id, r.community_id, r.status, r.closes_at, i.id
FROM fourgrid_reports AS r LEFT JOIN release_items AS i ON i.release_id = r.release_id
WHERE r.id IN ({marks})
"""

_POSTGRESQL_STATE = """
SELECT r.id, r.community_id, r.status, r.closes_at, i.id
FROM fourgrid_reports AS r LEFT JOIN release_items AS i ON i.release_id = r.release_id
WHERE r.id = ANY($1::integer[])
ORDER BY r.id
FOR SHARE OF r
"""


@dataclass
class _Report:
    community_id: int
    open: bool
    closes_at: Any  # as the driver gives it: compared with the ballots' times as given to it
    items: set[int]


def _accepted(
    batch: Sequence[Ballot], state: dict[int, _Report], stamps: dict[datetime, Any]
) -> list[bool]:
    """Per ballot: does its report (of its community) take it? The same conditions as the
    conditional write."""
    out = []
    for b in batch:
        r = state.get(b.report_id)
        out.append(
            r is not None
            and r.open
            and r.community_id == b.community_id
            and r.closes_at > stamps[b.at]
            and b.item_id in r.items
        )
    return out


def _state(rows: Any) -> dict[int, _Report]:
    """The rows of the state statement, by report."""
    out: dict[int, _Report] = {}
    for rid, community, status, closes_at, item in rows:
        r = out.get(rid)
        if r is None:
            r = out[rid] = _Report(community, status == REPORT_OPEN, closes_at, set())
        if item is not None:
            r.items.add(item)
    return out


def _columns(rows: Sequence[Sequence[Any]]) -> tuple[list[Any], ...]:
    """Rows to one array per column (PostgreSQL's unnest)."""
    return tuple(list(column) for column in zip(*rows, strict=True))


class BallotWriter:
    """Writes batches of ballots on one connection, each batch in a transaction of its own."""

    def __init__(self, conn: AsyncConnection, stamp: Any) -> None:
        self.conn = conn
        self._stamp = stamp  # a ballot's time as the driver takes it (None: as it is)

    async def cast_many(self, batch: Sequence[Ballot]) -> list[bool]:
        """Several ballots in one transaction, with the same outcome as one transaction each,
        in order. Each is written only while its report (of that community) accepts ballots at
        the ballot's time and the item is one of the report's; the answer per ballot says which
        were. The receipts the ballots carry are recorded with them."""
        if not batch:
            return []
        report_ids = sorted({b.report_id for b in batch})
        stamps = self._stamps(batch)
        conn = self.conn
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                state = _state(await conn.exec_driver_sql(_POSTGRESQL_STATE, (report_ids,)))
                accepted = _accepted(batch, state, stamps)
                await self._write_postgresql(batch, accepted, stamps)
                return accepted
            # SQLite: straight to the driver (aiosqlite), one hand-off to its thread per
            # statement; the transaction is still SQLAlchemy's (the driver began it with the
            # first write, SQLAlchemy commits it).
            driver: Any = (await conn.get_raw_connection()).driver_connection
            await self._write_sqlite(driver, batch, stamps)
            # Still in the transaction that wrote them (the write holds SQLite's lock): the
            # reports are as the writes saw them.
            marks = ", ".join("?" * len(report_ids))
            sql = _SQLITE_STATE.format(marks=marks)
            state = _state(await driver.execute_fetchall(sql, report_ids))
            return _accepted(batch, state, stamps)

    def _stamps(self, batch: Sequence[Ballot]) -> dict[datetime, Any]:
        """Each distinct time of the batch as the driver takes it (converted once)."""
        convert = self._stamp
        out: dict[datetime, Any] = {}
        for b in batch:
            if b.at not in out:
                out[b.at] = convert(b.at) if convert else b.at
        return out

    @staticmethod
    async def _write_sqlite(
        driver: Any, batch: Sequence[Ballot], stamps: dict[datetime, Any]
    ) -> None:
        rows = []
        receipts = []
        for b in batch:
            at = stamps[b.at]
            rows.append((b.account_id, b.grid, at, at, b.report_id, b.community_id, at, b.item_id))
            if b.receipt is not None:
                receipts.append((*b.receipt, at))
        await driver.executemany(_SQLITE_CAST, rows)
        if receipts:
            await driver.executemany(_SQLITE_RECEIPTS, receipts)

    async def _write_postgresql(
        self,
        batch: Sequence[Ballot],
        accepted: list[bool],
        stamps: dict[datetime, Any],
    ) -> None:
        # Per (item, account): the last grade of the batch, the time of the first ballot.
        rows: dict[tuple[int, int], list[Any]] = {}
        for b, ok in zip(batch, accepted, strict=True):
            if not ok:
                continue
            at = stamps[b.at]
            row = rows.get((b.item_id, b.account_id))
            if row is None:
                rows[(b.item_id, b.account_id)] = [
                    b.item_id,
                    b.account_id,
                    b.report_id,
                    b.grid,
                    at,
                    at,
                ]
            else:
                row[3], row[5] = b.grid, at
        if rows:
            await self.conn.exec_driver_sql(_POSTGRESQL_CAST, _columns(list(rows.values())))
        receipts = [(*b.receipt, stamps[b.at]) for b in batch if b.receipt is not None]
        if receipts:
            await self.conn.exec_driver_sql(_POSTGRESQL_RECEIPTS, _columns(receipts))


class BallotRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._stamp = ballots.c.updated_at.type._cached_bind_processor(engine.dialect)

    @property
    def one_writer(self) -> bool:
        """True where the database writes one transaction at a time (SQLite)."""
        return self.engine.dialect.name != "postgresql"

    async def cast(self, ballot: Ballot) -> bool:
        """Put an item in a grid (or move it); False when the report does not take it."""
        return (await self.cast_many([ballot]))[0]

    async def cast_many(self, batch: Sequence[Ballot]) -> list[bool]:
        """Several ballots in one transaction (group commit); see `BallotWriter.cast_many`."""
        async with self.writer() as writer:
            return await writer.cast_many(batch)

    @contextlib.asynccontextmanager
    async def writer(self) -> AsyncIterator[BallotWriter]:
        """One connection for a run of batches (a burst), each batch its own transaction: no
        connection taken from the pool and given back, and reset, per batch."""
        async with self.engine.connect() as conn:
            yield BallotWriter(conn, self._stamp)

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
