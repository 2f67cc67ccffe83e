"""Deleting what no longer needs keeping, in small batches: delivered (or given-up) outbox rows,
finished job runs, remembered platform event ids, handled Telegram updates and expired one-time
codes older than a cut-off (`purge_rows` does the same for a feature's own tables).

Each batch is one short transaction that deletes at most `batch` rows picked through an index,
so the database's write lock (SQLite) or the rows' locks (PostgreSQL) are held only briefly and
a claim burst going on meanwhile keeps its pace.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import job_runs, one_time_codes, outbox
from storage.platform.schema import processed_events, telegram_inbox

#: Rows deleted per transaction.
PURGE_BATCH = 1_000


async def purge_rows(
    engine: AsyncEngine, table: Table, cond: ColumnElement[bool], batch: int = PURGE_BATCH
) -> int:
    """Delete the rows of `table` that meet `cond`, `batch` at a time; how many."""
    pk = list(table.primary_key.columns)
    chosen = select(*pk).where(cond).limit(batch)
    which = pk[0].in_(chosen) if len(pk) == 1 else tuple_(*pk).in_(chosen)
    total = 0
    while True:
        async with engine.begin() as conn:
            res = await conn.execute(delete(table).where(which))
        deleted = int(res.rowcount or 0)
        total += deleted
        if deleted < batch:
            return total
        await asyncio.sleep(0)  # let the event loop serve what is waiting between batches


async def purge_outbox(engine: AsyncEngine, before: datetime, batch: int = PURGE_BATCH) -> int:
    """Delete messages delivered, or given up on, before `before`."""
    n = await purge_rows(engine, outbox, outbox.c.delivered_at < before, batch)
    return n + await purge_rows(engine, outbox, outbox.c.failed_at < before, batch)


async def purge_job_runs(engine: AsyncEngine, before: datetime, batch: int = PURGE_BATCH) -> int:
    """Delete job keys whose work finished before `before` (unfinished ones are kept)."""
    return await purge_rows(engine, job_runs, job_runs.c.finished_at < before, batch)


async def purge_processed_events(
    engine: AsyncEngine, before: datetime, batch: int = PURGE_BATCH
) -> int:
    """Forget platform event ids (updates, interactions, messages) first seen before `before`."""
    return await purge_rows(engine, processed_events, processed_events.c.created_at < before, batch)


async def purge_telegram_inbox(
    engine: AsyncEngine, before: datetime, batch: int = PURGE_BATCH
) -> int:
    """Delete Telegram updates handled before `before` (those not handled yet are kept: a
    restart replays them)."""
    return await purge_rows(engine, telegram_inbox, telegram_inbox.c.handled_at < before, batch)


async def purge_one_time_codes(
    engine: AsyncEngine, before: datetime, batch: int = PURGE_BATCH
) -> int:
    """Delete one-time codes (account links, space joins) that expired before `before`, used
    or not: an expired code is refused whatever its row says."""
    return await purge_rows(engine, one_time_codes, one_time_codes.c.expires_at < before, batch)
