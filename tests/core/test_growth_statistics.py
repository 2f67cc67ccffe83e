"""A burst of new members on PostgreSQL: once it has doubled `accounts`, the table is analysed,
and the rows the burst adds are checked against their accounts by key, not by reading the whole
table with a plan made while it was small (`storage.growth`). SQLite checks a foreign key
through the parent's key whatever the table holds, so this is PostgreSQL's test."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.identity import Arrival, IdentityRepo
from storage.growth import ANALYZE_FROM, Growth
from tests.databases import table_scans

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BATCH = 250


async def _join(repo: IdentityRepo, first: int, count: int) -> None:
    for start in range(first, first + count, BATCH):
        await repo.create_many(
            [
                Arrival("discord", f"u{n}", f"Fan {n}", "g1", "Guild", NOW)
                for n in range(start, min(start + BATCH, first + count))
            ]
        )


async def test_a_burst_of_new_members_is_checked_by_key_once_accounts_doubled(
    pg_one_connection: AsyncEngine,
) -> None:
    engine = pg_one_connection
    repo = IdentityRepo(engine)
    await _join(repo, 0, 20)
    async with engine.begin() as conn:  # a young community: statistics of a small table
        await conn.execute(text("ANALYZE"))

    await _join(repo, 20, ANALYZE_FROM)  # the burst doubles `accounts` (and more)
    before = (await table_scans(engine, "accounts"))["table"]
    await _join(repo, 20 + ANALYZE_FROM, 2 * ANALYZE_FROM)
    after = (await table_scans(engine, "accounts"))["table"]

    assert after - before < 10, after - before  # was two whole-table reads per new member
    growth = Growth.of(engine)
    assert growth is not None and growth.analyses >= 1
    async with engine.connect() as conn:
        members = (await conn.execute(text("SELECT count(*) FROM members"))).scalar_one()
    assert members == 20 + 3 * ANALYZE_FROM
