"""Per-member sliding windows kept in PostgreSQL, so that several processes share one limit.

One row per (account, bucket) holds the times of the calls still in the window. A call is one
statement: an upsert that drops the hits older than the window and appends this one when fewer
than `calls` remain, under the row's lock, so concurrent calls from any number of processes
are admitted at most `calls` times per window. `admitted` records what that statement decided
and comes back with the hits left (for the wait to tell a member who is refused).

`admit` also reads a second bucket in the same statement, the guard (the member's budget of
refused attempts): when it is over its limit, nothing is recorded and the guard's hits come
back. That keeps a command or a button press at one round trip.

Cheap by construction: the statement runs on its own (autocommit: one round trip, no BEGIN and
COMMIT), and the table is UNLOGGED (migration 0004_rate_limits), so a commit writes no WAL and
waits for no disk flush. After a crash of the database server PostgreSQL empties an unlogged
table: every member's window starts again, which is harmless.

PostgreSQL only (an array column and `ON CONFLICT … DO UPDATE`); with SQLite, one process
counts in memory (bot/core/ratelimit.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Float,
    Integer,
    String,
    TextClause,
    bindparam,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_TYPES = {
    "account": BigInteger,
    "bucket": String,
    "calls": Integer,
    "seconds": Float,
    "now": Float,
    "g_bucket": String,
    "g_calls": Integer,
    "g_seconds": Float,
    "before": Float,
}


def _sql(statement: str) -> TextClause:
    """The statement with its parameters typed (asyncpg must know them)."""
    clause = text(statement)
    used: list[BindParameter[object]] = [
        bindparam(k, type_=t) for k, t in _TYPES.items() if f":{k}" in statement
    ]
    return clause.bindparams(*used)


_KEPT = "ARRAY(SELECT h FROM unnest(rate_limits.hits) AS h WHERE h > :now - :seconds)"

_ADMIT = _sql(
    f"""
WITH guard AS (
    SELECT ARRAY(SELECT h FROM unnest(g.hits) AS h WHERE h > :now - :g_seconds ORDER BY h)
        AS hits
    FROM rate_limits AS g
    WHERE g.account_id = :account AND g.bucket = :g_bucket
), up AS (
    INSERT INTO rate_limits AS rate_limits (account_id, bucket, hits, admitted, last_at)
    SELECT :account, :bucket, ARRAY[CAST(:now AS double precision)], true, :now
    WHERE coalesce((SELECT cardinality(hits) FROM guard), 0) < :g_calls
    ON CONFLICT (account_id, bucket) DO UPDATE SET
        hits = CASE WHEN cardinality({_KEPT}) < :calls
            THEN {_KEPT} || CAST(:now AS double precision) ELSE {_KEPT} END,
        admitted = cardinality({_KEPT}) < :calls,
        last_at = :now
    RETURNING rate_limits.admitted, rate_limits.hits
)
SELECT (SELECT admitted FROM up) AS admitted, (SELECT hits FROM up) AS hits,
    (SELECT hits FROM guard) AS guard_hits
"""
)

_RECORD = _sql(
    f"""
INSERT INTO rate_limits AS rate_limits (account_id, bucket, hits, admitted, last_at)
VALUES (:account, :bucket, ARRAY[CAST(:now AS double precision)], true, :now)
ON CONFLICT (account_id, bucket) DO UPDATE SET
    hits = CASE WHEN cardinality({_KEPT}) < :calls
        THEN {_KEPT} || CAST(:now AS double precision) ELSE {_KEPT} END,
    admitted = cardinality({_KEPT}) < :calls,
    last_at = :now
RETURNING rate_limits.admitted, rate_limits.hits
"""
)

_HITS = _sql(
    "SELECT ARRAY(SELECT h FROM unnest(hits) AS h WHERE h > :now - :seconds ORDER BY h) "
    "FROM rate_limits WHERE account_id = :account AND bucket = :bucket"
)

# Take back the newest call (a refused one should not count).
_REFUND = _sql(
    "UPDATE rate_limits SET hits = hits[1:cardinality(hits) - 1] "
    "WHERE account_id = :account AND bucket = :bucket AND cardinality(hits) > 0"
)

_SWEEP = _sql("DELETE FROM rate_limits WHERE last_at < :before")


@dataclass(frozen=True)
class Outcome:
    admitted: bool
    hits: list[float]  # the calls in the window (the refusing bucket's, when refused), oldest first
    by_guard: bool = False  # refused by the guard bucket


class RateLimitRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose statements commit one by one: one round trip, no BEGIN/COMMIT."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def admit(
        self,
        account_id: int,
        bucket: str,
        calls: int,
        seconds: float,
        now: float,
        guard: tuple[str, int, float],
    ) -> Outcome:
        """Record a call to `bucket` unless it is full, or the guard bucket is (checked, not
        recorded); one statement."""
        g_bucket, g_calls, g_seconds = guard
        params = {
            "account": account_id,
            "bucket": bucket,
            "calls": calls,
            "seconds": seconds,
            "now": now,
            "g_bucket": g_bucket,
            "g_calls": g_calls,
            "g_seconds": g_seconds,
        }
        async with self._autocommit() as conn:
            r = (await conn.execute(_ADMIT, params)).one()
        if r.admitted is None:  # the guard is full: nothing written
            return Outcome(False, sorted(r.guard_hits or []), by_guard=True)
        return Outcome(bool(r.admitted), sorted(r.hits))

    async def record(
        self, account_id: int, bucket: str, calls: int, seconds: float, now: float
    ) -> Outcome:
        params = {
            "account": account_id,
            "bucket": bucket,
            "calls": calls,
            "seconds": seconds,
            "now": now,
        }
        async with self._autocommit() as conn:
            r = (await conn.execute(_RECORD, params)).one()
        return Outcome(bool(r.admitted), sorted(r.hits))

    async def hits(self, account_id: int, bucket: str, seconds: float, now: float) -> list[float]:
        params = {"account": account_id, "bucket": bucket, "seconds": seconds, "now": now}
        async with self.engine.connect() as conn:
            found = (await conn.execute(_HITS, params)).scalar()
        return list(found or [])

    async def refund(self, account_id: int, bucket: str) -> None:
        async with self._autocommit() as conn:
            await conn.execute(_REFUND, {"account": account_id, "bucket": bucket})

    async def sweep(self, before: float) -> int:
        """Delete the rows with no call since `before`."""
        async with self.engine.begin() as conn:
            return int((await conn.execute(_SWEEP, {"before": before})).rowcount or 0)
