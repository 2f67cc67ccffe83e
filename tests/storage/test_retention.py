"""Retention deletes old delivered outbox rows, finished job runs, old event ids and old handled
Telegram updates, in batches, and keeps what is still pending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.retention import Retention
from storage.core.retention import (
    purge_job_runs,
    purge_one_time_codes,
    purge_outbox,
    purge_processed_events,
    purge_telegram_inbox,
)
from storage.core.schema import communities, job_runs, one_time_codes, outbox
from storage.platform.schema import processed_events, telegram_inbox
from tests.conftest import make_engine

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
        await conn.execute(
            insert(telegram_inbox),
            [
                _update(1, NOW - timedelta(days=9), handled=True),  # old, handled
                _update(2, NOW - timedelta(days=9), handled=False),  # old, never handled: kept
                _update(3, RECENT, handled=True),  # recent: kept
            ],
        )


def _update(update_id: int, received: datetime, *, handled: bool) -> dict[str, object]:
    return {
        "update_id": update_id,
        "payload": {"update_id": update_id},
        "received_at": received,
        "handled_at": received if handled else None,
    }


async def test_retention_deletes_what_is_old_and_done(engine: AsyncEngine) -> None:
    await _seed(engine)
    deleted = await Retention(engine, timedelta(days=90), events=timedelta(days=7)).run(NOW)
    assert deleted == {
        "outbox": 8,
        "job_runs": 1,
        "processed_events": 2,
        "telegram_inbox": 1,
        "one_time_codes": 0,
    }
    async with engine.connect() as conn:
        targets = set((await conn.execute(select(outbox.c.target))).scalars())
        keys = set((await conn.execute(select(job_runs.c.key))).scalars())
        events = set((await conn.execute(select(processed_events.c.event_id))).scalars())
        updates = set((await conn.execute(select(telegram_inbox.c.update_id))).scalars())
    assert targets == {"11", "12"}
    assert keys == {"old-unfinished", "recent"}
    assert events == {"i2"}
    assert updates == {2, 3}


async def test_one_time_codes_are_deleted_once_expired_before_the_cutoff(
    engine: AsyncEngine,
) -> None:
    def code(name: str, expired_days_ago: float, *, used: bool) -> dict[str, object]:
        expires = NOW - timedelta(days=expired_days_ago)
        return {
            "code": name,
            "kind": "link",
            "created_at": expires - timedelta(minutes=15),
            "expires_at": expires,
            "used_at": expires - timedelta(minutes=5) if used else None,
        }

    async with engine.begin() as conn:
        await conn.execute(
            insert(one_time_codes),
            [
                code("OLDUSED", 9, used=True),
                code("OLDIDLE", 8, used=False),
                code("WEEKOLD", 6, used=False),  # younger than the cut-off: kept
                code("LIVE", -0.01, used=False),  # not expired yet: kept
            ],
        )
    deleted = await Retention(engine, timedelta(days=90), events=timedelta(days=7)).run(NOW)
    assert deleted["one_time_codes"] == 2
    async with engine.connect() as conn:
        kept = set((await conn.execute(select(one_time_codes.c.code))).scalars())
    assert kept == {"WEEKOLD", "LIVE"}
    assert await purge_one_time_codes(engine, NOW) == 1  # the expired one of this week


async def test_outbox_purge_goes_in_batches(engine: AsyncEngine) -> None:
    await _seed(engine)
    assert await purge_outbox(engine, NOW - timedelta(days=90), batch=2) == 8
    assert await purge_outbox(engine, NOW - timedelta(days=90), batch=2) == 0


async def test_retention_runs_at_most_once_an_hour(engine: AsyncEngine) -> None:
    retention = Retention(engine, timedelta(days=90))
    assert await retention.maybe_run(NOW) is not None
    assert await retention.maybe_run(NOW + timedelta(minutes=59)) is None
    assert await retention.maybe_run(NOW + timedelta(minutes=60)) is not None


# A row: (days ago it was created, days ago it was finished or None when it is still pending).
ROWS = st.lists(
    st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30))),
    max_size=40,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=ROWS, cutoff=st.integers(0, 31), batch=st.integers(1, 7))
def test_purges_delete_exactly_what_is_done_and_older_than_the_cutoff(
    db_kind: str, tmp_path: Path, rows: list[tuple[int, int | None]], cutoff: int, batch: int
) -> None:
    """Whatever the rows and the batch size: a row is deleted if and only if its work is done
    and was done before the cut-off; every kind of row that retention handles."""
    before = NOW - timedelta(days=cutoff)

    def at(days: int | None) -> datetime | None:
        return None if days is None else NOW - timedelta(days=max(days, 0))

    async def go() -> None:
        engine, _ = await make_engine(db_kind, tmp_path)
        try:
            async with engine.begin() as conn:
                for table in (outbox, job_runs, processed_events, telegram_inbox):
                    await conn.execute(delete(table))
                await conn.execute(delete(communities))
                await conn.execute(insert(communities).values(id=1, name="c", created_at=OLD))
                if rows:
                    await conn.execute(
                        insert(outbox),
                        [
                            _message(i, at(made) or NOW, delivered_at=at(done))
                            for i, (made, done) in enumerate(rows)
                        ],
                    )
                    await conn.execute(
                        insert(job_runs),
                        [
                            {
                                "key": f"k{i}",
                                "holder": "h",
                                "started_at": at(made),
                                "finished_at": at(done),
                            }
                            for i, (made, done) in enumerate(rows)
                        ],
                    )
                    await conn.execute(
                        insert(telegram_inbox),
                        [
                            {
                                "update_id": i,
                                "payload": {"update_id": i},
                                "received_at": at(made),
                                "handled_at": at(done),
                            }
                            for i, (made, done) in enumerate(rows)
                        ],
                    )
                    await conn.execute(
                        insert(processed_events),
                        [
                            {"platform": "telegram", "event_id": str(i), "created_at": at(made)}
                            for i, (made, _) in enumerate(rows)
                        ],
                    )
            deleted = (
                await purge_outbox(engine, before, batch),
                await purge_job_runs(engine, before, batch),
                await purge_telegram_inbox(engine, before, batch),
                await purge_processed_events(engine, before, batch),
            )
            async with engine.connect() as conn:
                kept_outbox = {
                    int(t) for t in (await conn.execute(select(outbox.c.target))).scalars()
                }
                kept_jobs = {k[1:] for k in (await conn.execute(select(job_runs.c.key))).scalars()}
                kept_updates = set(
                    (await conn.execute(select(telegram_inbox.c.update_id))).scalars()
                )
                kept_events = {
                    int(e)
                    for e in (await conn.execute(select(processed_events.c.event_id))).scalars()
                }
        finally:
            await engine.dispose()
        done_before = {
            i for i, (_, done) in enumerate(rows) if done is not None and at(done) < before
        }
        made_before = {i for i, (made, _) in enumerate(rows) if at(made) < before}
        everything = set(range(len(rows)))
        assert kept_outbox == everything - done_before
        assert {int(k) for k in kept_jobs} == everything - done_before
        assert kept_updates == everything - done_before
        assert kept_events == everything - made_before
        assert deleted == (len(done_before),) * 3 + (len(made_before),)

    asyncio.run(go())
