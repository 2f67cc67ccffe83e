"""The reminder before drop time goes to each reserver exactly once: across a restart, a job
taken over after its process died having stored the reminders, and a process killed (SIGKILL)
in the middle of the job. SQLite and PostgreSQL."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import DEFAULT_COGS, FanloopSettings
from storage.core.schema import job_runs, outbox
from storage.drops.schema import drops, reservations
from tests.conftest import START, engine_url, make_engine
from tests.core.test_job_takeover import _spawn, _wait_for

FANS = 6


def _settings(tmp_path: Path) -> FanloopSettings:
    cogs = [*DEFAULT_COGS, *(["cogs.drops"] if "cogs.drops" not in DEFAULT_COGS else [])]
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)


async def _reserved_drop(app: App, drop_at: datetime) -> tuple[int, set[int]]:
    """A flash drop reserved by FANS fans, of whom fan0 turned the reminder off; returns the
    drop and the accounts to remind."""
    console = ConsoleAdapter(app)
    at = drop_at.strftime("%Y-%m-%d %H:%M")
    await console.handle_line(f'/drop create Phone 3 "{at}"')
    for i in range(FANS):
        await console.handle_line(f"/as fan{i} fan")
        await console.handle_line("/reserve 1")
    await console.handle_line("/as fan0")
    await console.handle_line("/drop reminder 1 off")
    async with app.engine.connect() as conn:
        drop_id = int((await conn.execute(select(drops.c.id))).scalar_one())
        remind = set(
            (
                await conn.execute(
                    select(reservations.c.account_id).where(reservations.c.remind.is_(True))
                )
            ).scalars()
        )
    assert len(remind) == FANS - 1
    return drop_id, remind


async def _reminded(engine: AsyncEngine, drop_id: int) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.account_id).where(outbox.c.dedup_key.like(f"drop:{drop_id}:remind:%"))
        )
        return sorted(int(a) for a in rows.scalars())


async def test_reminded_once_across_a_restart_and_a_takeover(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    app = await App.create(_settings(tmp_path), clock, engine=engine, migrate=False)
    drop_id, remind = await _reserved_drop(app, START + timedelta(hours=1))
    await app.run_due()
    assert await _reminded(engine, drop_id) == []  # 60 minutes ahead: not yet
    clock.advance(timedelta(minutes=51))
    await app.run_due()
    assert await _reminded(engine, drop_id) == sorted(remind)
    await app.close()

    # A restart: the new process finds the job done and reminds nobody again.
    clock.advance(timedelta(minutes=1))
    again = await App.create(_settings(tmp_path), clock, engine=engine, migrate=False)
    await again.run_due()
    assert await _reminded(engine, drop_id) == sorted(remind)

    # A process that stored the reminders and died before finishing the job: the job is taken
    # over once its lease lapses, runs again, and adds nothing.
    key = f"drop:{drop_id}:remind"
    async with engine.begin() as conn:
        res = await conn.execute(
            update(job_runs)
            .where(job_runs.c.key == key)
            .values(finished_at=None, lease_until=datetime.now(UTC) - timedelta(minutes=1))
        )
        assert res.rowcount == 1
    await again.run_due()
    assert await again.jobs.done(key)
    assert await _reminded(engine, drop_id) == sorted(remind)
    await again.close()


async def test_a_reminder_killed_half_way_is_sent_once_after_a_restart(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    try:
        # On the real clock: the drop is 6 to 7 minutes away, inside the 10-minute lead time.
        now = datetime.now(UTC)
        drop_at = (now + timedelta(minutes=7)).replace(second=0, microsecond=0)
        app = await App.create(
            _settings(tmp_path), FakeClock(now - timedelta(hours=1)), engine=engine, migrate=False
        )
        drop_id, remind = await _reserved_drop(app, drop_at)
        await app.close()
        key = f"drop:{drop_id}:remind"
        out = tmp_path / "child.txt"

        # The first process claims the reminder job and is killed before it stores a reminder.
        child = _spawn(url, schema or "", key, out, f"drop:{drop_id}:remind*")
        _wait_for(out, child, "stopped")
        child.send_signal(signal.SIGKILL)
        child.wait()
        async with engine.connect() as conn:
            run = (await conn.execute(select(job_runs).where(job_runs.c.key == key))).one()
        assert run.finished_at is None  # killed in the middle of the job
        assert await _reminded(engine, drop_id) == []

        # Restarted: the job is taken over once its lease lapses; every reserver who did not
        # turn the reminder off is reminded, once.
        out.unlink()
        child = _spawn(url, schema or "", key, out)
        assert child.wait(timeout=180) == 0
        assert out.read_text() == "done"
        assert await _reminded(engine, drop_id) == sorted(remind)
    finally:
        await engine.dispose()
