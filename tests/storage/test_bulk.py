"""Set-based inserts (storage/bulk.py) store what SQLAlchemy's own INSERT stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bulk import Constant, EncodedJSON, encode_json, insert_rows
from storage.core.schema import communities, outbox
from storage.engine import (
    SQLITE_CACHE_KIB,
    SQLITE_WAL_AUTOCHECKPOINT,
    Checkpointer,
    create_engine,
)
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


async def test_json_already_encoded_is_stored_as_it_is(engine: AsyncEngine) -> None:
    """A "JSON" column takes a value (encoded here) or its text made beforehand (EncodedJSON):
    both store the same text and read back as the same value."""
    at = MOMENTS[0]
    payload = {"text": 'won "A-B" \\ 中文 🎉\x1f', "buttons": [{"action": "dk:1"}], "n": 1}
    async with engine.begin() as conn:
        cid = (
            await conn.execute(insert(communities).values(name="c", created_at=at))
        ).inserted_primary_key[0]  # type: ignore[index]
        await insert_rows(
            conn,
            outbox.name,
            (("target", "TEXT"), ("payload", "JSON")),
            [("value", payload), ("text", EncodedJSON(encode_json(payload)))],
            constants={
                "community_id": Constant(cid),
                "platform": Constant("p"),
                "kind": Constant("member"),
                "created_at": Constant(at, UTCDateTime()),
                "next_attempt_at": Constant(at, UTCDateTime()),
            },
        )
    async with engine.connect() as conn:
        raw = dict(
            (await conn.execute(text("SELECT target, CAST(payload AS TEXT) FROM outbox"))).all()
        )
        read = dict((await conn.execute(select(outbox.c.target, outbox.c.payload))).all())
    assert raw["value"] == raw["text"] == encode_json(payload)
    assert read == {"value": payload, "text": payload}


async def test_the_checkpointer_copies_the_wal_back_into_the_file(tmp_path: Path) -> None:
    """What is committed is in the database file itself once the checkpointer ran (a copy of
    the file without its WAL holds it), on a connection outside the engine's pool."""
    path = tmp_path / "f.db"
    eng = create_engine(f"sqlite:///{path}")
    checkpointer = Checkpointer.of(eng)
    assert checkpointer is not None
    try:
        async with eng.begin() as conn:
            await conn.run_sync(processed_events.create)
        async with eng.begin() as conn:
            await conn.execute(
                insert(processed_events).values(platform="p", event_id="1", created_at=MOMENTS[0])
            )
        await checkpointer.run()
        await checkpointer.run()  # again, with nothing new: harmless
        assert checkpointer.runs == 2
        alone = tmp_path / "alone.db"
        alone.write_bytes(path.read_bytes())  # the file only, not its WAL
        copy = create_engine(f"sqlite:///{alone}")
        try:
            async with copy.connect() as conn:
                rows = (await conn.execute(select(processed_events.c.event_id))).scalars().all()
            assert rows == ["1"]
        finally:
            await copy.dispose()
    finally:
        checkpointer.close()
        await eng.dispose()


def test_no_checkpointer_but_for_a_sqlite_file() -> None:
    assert Checkpointer.of(create_engine("sqlite:///:memory:")) is None
    assert Checkpointer.of(create_engine("postgresql://postgres@127.0.0.1:5432/x")) is None
