"""Retention deletes old delivered outbox rows, finished job runs and old event ids, in
batches, and keeps what is still pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.retention import Retention
from storage.core.retention import purge_outbox
from storage.core.schema import communities, job_runs, outbox
from storage.platform.schema import processed_events

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=3)


def _message(i: int, created: datetime, **state: datetime | None) -> dict[str, object]:
    return {
        "community_id": 1,
        "platform": "telegram",
        "kind": "member",
        "target": str(i),
        "payload": {"text": "hi"},
        "dedup_key": f"k:{i}",
        "created_at": created,
        "next_attempt_at": created,
        "delivered_at": state.get("delivered_at"),
        "failed_at": state.get("failed_at"),
    }


async def _seed(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(communities).values(id=1, name="c", created_at=OLD))
        rows = [_message(i, OLD, delivered_at=OLD) for i in range(7)]  # old, delivered
        rows += [_message(10, OLD, failed_at=OLD)]  # old, given up
        rows += [_message(11, OLD)]  # old but never delivered: kept
        rows += [_message(12, RECENT, delivered_at=RECENT)]  # recent: kept
        await conn.execute(insert(outbox), rows)
        await conn.execute(
            insert(job_runs),
            [
                {"key": "old-done", "holder": "h", "started_at": OLD, "finished_at": OLD},
                {"key": "old-unfinished", "holder": "h", "started_at": OLD, "finished_at": None},
                {"key": "recent", "holder": "h", "started_at": RECENT, "finished_at": RECENT},
            ],
        )
        await conn.execute(
            insert(processed_events),
            [
                {"platform": "telegram", "event_id": "u1", "created_at": NOW - timedelta(days=9)},
                {"platform": "discord", "event_id": "i1", "created_at": NOW - timedelta(days=8)},
                {"platform": "discord", "event_id": "i2", "created_at": RECENT},
            ],
        )


async def test_retention_deletes_what_is_old_and_done(engine: AsyncEngine) -> None:
    await _seed(engine)
    deleted = await Retention(engine, timedelta(days=90), events=timedelta(days=7)).run(NOW)
    assert deleted == {"outbox": 8, "job_runs": 1, "processed_events": 2}
    async with engine.connect() as conn:
        targets = set((await conn.execute(select(outbox.c.target))).scalars())
        keys = set((await conn.execute(select(job_runs.c.key))).scalars())
        events = set((await conn.execute(select(processed_events.c.event_id))).scalars())
    assert targets == {"11", "12"}
    assert keys == {"old-unfinished", "recent"}
    assert events == {"i2"}


async def test_outbox_purge_goes_in_batches(engine: AsyncEngine) -> None:
    await _seed(engine)
    assert await purge_outbox(engine, NOW - timedelta(days=90), batch=2) == 8
    assert await purge_outbox(engine, NOW - timedelta(days=90), batch=2) == 0


async def test_retention_runs_at_most_once_an_hour(engine: AsyncEngine) -> None:
    retention = Retention(engine, timedelta(days=90))
    assert await retention.maybe_run(NOW) is not None
    assert await retention.maybe_run(NOW + timedelta(minutes=59)) is None
    assert await retention.maybe_run(NOW + timedelta(minutes=60)) is not None
