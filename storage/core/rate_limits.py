"""Per-member sliding windows kept in PostgreSQL, so that several processes share one limit.

One row per (account, bucket) holds the times of the calls still in the window, and the
bucket's limit (`calls` per `seconds`). Calls are admitted by one statement for a whole batch
(`admit_many`: every call waiting in the process at that moment, a burst's presses together):
an upsert that, under each row's lock, drops the hits older than the window and appends as many
of the batch's calls as there is room for. So concurrent batches from any number of processes
admit at most `calls` per window. `admitted` records how many the statement admitted, and comes
back with the hits left (for the wait to tell a member who is refused).

The same statement reads the guard bucket (the member's budget of refused attempts): when it is
full, nothing of that member is recorded and the guard's hits come back.

Cheap by construction: the statement runs on its own (autocommit: one round trip, no BEGIN and
COMMIT), and the table is UNLOGGED (migration 0004_rate_limits), so a commit writes no WAL and
waits for no disk flush. After a crash of the database server PostgreSQL empties an unlogged
table: every member's window starts again, which is harmless.

PostgreSQL only (arrays and `ON CONFLICT … DO UPDATE`); with SQLite, one process counts in
memory (bot/core/ratelimit.py).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

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
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_TYPES: dict[str, Any] = {
    "accounts": ARRAY(BigInteger),
    "buckets": ARRAY(String),
    "limits": ARRAY(Integer),
    "windows": ARRAY(Float),
    "ns": ARRAY(Integer),
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
        bindparam(k, type_=t) for k, t in _TYPES.items() if re.search(rf":{k}\b", statement)
    ]
    return clause.bindparams(*used)


# The hits of the row being updated still in its window (`excluded` is the row proposed).
_KEPT = "ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > excluded.last_at - excluded.seconds)"
_ROOM = f"LEAST(cardinality(excluded.hits), GREATEST(0, excluded.calls - cardinality({_KEPT})))"

# Each input row is one (account, bucket) of the batch with `n` calls. The row proposed for
# insertion carries min(n, calls) copies of `now`: a new row takes them all, an existing one as
# many as its window has room for.
_ADMIT = _sql(
    f"""
WITH input AS (
    SELECT * FROM unnest(:accounts, :buckets, :limits, :windows, :ns)
        AS i(account_id, bucket, calls, seconds, n)
), guard AS (
    SELECT g.account_id,
        ARRAY(SELECT h FROM unnest(g.hits) AS h WHERE h > :now - :g_seconds ORDER BY h) AS hits
    FROM rate_limits AS g
    WHERE g.bucket = :g_bucket AND g.account_id IN (SELECT account_id FROM input)
), allowed AS (
    SELECT i.* FROM input AS i LEFT JOIN guard AS g ON g.account_id = i.account_id
    WHERE coalesce(cardinality(g.hits), 0) < :g_calls
), up AS (
    INSERT INTO rate_limits AS r (account_id, bucket, hits, calls, seconds, admitted, last_at)
    SELECT account_id, bucket, array_fill(CAST(:now AS double precision), ARRAY[LEAST(n, calls)]),
        calls, seconds, LEAST(n, calls), :now
    FROM allowed
    ON CONFLICT (account_id, bucket) DO UPDATE SET
        hits = {_KEPT} || excluded.hits[1:{_ROOM}],
        admitted = {_ROOM},
        calls = excluded.calls,
        seconds = excluded.seconds,
        last_at = excluded.last_at
    RETURNING r.account_id, r.bucket, r.admitted, r.hits
)
SELECT i.account_id, i.bucket, up.admitted, up.hits, g.hits AS guard_hits
FROM input AS i
LEFT JOIN up ON up.account_id = i.account_id AND up.bucket = i.bucket
LEFT JOIN guard AS g ON g.account_id = i.account_id
"""
)

# One call recorded (a refused attempt in the guard bucket).
_RECORD = _sql(
    f"""
INSERT INTO rate_limits AS r (account_id, bucket, hits, calls, seconds, admitted, last_at)
VALUES (:account, :bucket, ARRAY[CAST(:now AS double precision)], :calls, :seconds, 1, :now)
ON CONFLICT (account_id, bucket) DO UPDATE SET
    hits = {_KEPT} || excluded.hits[1:{_ROOM}],
    admitted = {_ROOM},
    calls = excluded.calls,
    seconds = excluded.seconds,
    last_at = excluded.last_at
RETURNING r.admitted, r.hits
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
class Ask:
    """`n` calls of one account to one bucket, limited to `calls` per `seconds`."""

    account_id: int
    bucket: str
    calls: int
    seconds: float
    n: int = 1


@dataclass(frozen=True)
class Outcome:
    admitted: int  # how many of the calls were admitted (the first ones)
    hits: list[float]  # the calls in the window (the guard's, when refused by it), oldest first
    by_guard: bool = False  # refused by the guard bucket


class RateLimitRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose statements commit one by one: one round trip, no BEGIN/COMMIT."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def admit_many(
        self, asks: Sequence[Ask], now: float, guard: tuple[str, int, float]
    ) -> list[Outcome]:
        """Admit what fits of each ask (one per account and bucket), unless the account's guard
        bucket is full (checked, not recorded); one statement for all. One outcome per ask."""
        g_bucket, g_calls, g_seconds = guard
        params = {
            "accounts": [a.account_id for a in asks],
            "buckets": [a.bucket for a in asks],
            "limits": [a.calls for a in asks],
            "windows": [a.seconds for a in asks],
            "ns": [a.n for a in asks],
            "now": now,
            "g_bucket": g_bucket,
            "g_calls": g_calls,
            "g_seconds": g_seconds,
        }
        async with self._autocommit() as conn:
            rows = (await conn.execute(_ADMIT, params)).all()
        found = {(int(r.account_id), str(r.bucket)): r for r in rows}
        out = []
        for ask in asks:
            r = found[(ask.account_id, ask.bucket)]
            if r.admitted is None:  # the guard is full: nothing written
                out.append(Outcome(0, sorted(r.guard_hits or []), by_guard=True))
            else:
                out.append(Outcome(int(r.admitted), sorted(r.hits)))
        return out

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
        return Outcome(int(r.admitted), sorted(r.hits))

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
