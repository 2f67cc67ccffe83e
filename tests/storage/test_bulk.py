"""Set-based inserts (storage/bulk.py) store what SQLAlchemy's own INSERT stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bulk import Constant, insert_rows
from storage.engine import SQLITE_CACHE_KIB, SQLITE_WAL_AUTOCHECKPOINT, create_engine
from storage.platform.schema import processed_events
from storage.types import UTCDateTime

MOMENTS = [
    datetime(2026, 1, 1, 12, 0, tzinfo=UTC),  # no microseconds: SQLite's text must still match
    datetime(2026, 1, 1, 12, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-7))),
]


@pytest.mark.parametrize("moment", MOMENTS)
async def test_a_constant_datetime_is_stored_as_an_insert_stores_it(
    engine: AsyncEngine, moment: datetime
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(processed_events).values(platform="orm", event_id="1", created_at=moment)
        )
        await insert_rows(
            conn,
            processed_events.name,
            (("platform", "TEXT"), ("event_id", "TEXT")),
            [("bulk", "1"), ("bulk", "2")],
            constants={"created_at": Constant(moment, UTCDateTime())},
        )
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT platform, CAST(created_at AS TEXT) FROM processed_events")
            )
        ).all()
        values = (await conn.execute(select(processed_events.c.created_at))).scalars().all()
    assert len({raw for _, raw in stored}) == 1, stored
    assert values == [moment, moment, moment]


async def test_sqlite_connections_keep_a_cache_the_size_of_a_burst(tmp_path: Path) -> None:
    """A claim burst writes into indexes of tens of MiB at a million reservers: the page cache
    and the checkpoint interval are set on every connection (durability is WAL's either way)."""
    eng = create_engine(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        async with eng.connect() as conn:
            pragma = conn.exec_driver_sql
            assert (await pragma("PRAGMA journal_mode")).scalar() == "wal"
            assert (await pragma("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert (await pragma("PRAGMA cache_size")).scalar() == -SQLITE_CACHE_KIB
            wal = (await pragma("PRAGMA wal_autocheckpoint")).scalar()
            assert wal == SQLITE_WAL_AUTOCHECKPOINT
    finally:
        await eng.dispose()
