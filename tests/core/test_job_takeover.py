"""A process killed (SIGKILL) in the middle of scheduled work: after a restart the work is taken
over and finished, and nothing the first process announced is announced again. Real processes,
real cogs, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from config.settings import DEFAULT_COGS, FanloopSettings
from storage.core.schema import job_runs, outbox
from storage.drops.schema import drops, waitlist, wins
from storage.weekly.schema import fourgrid_reports as reports
from tests.conftest import engine_url, make_engine
from tests.weekly.weekly_helpers import member, release

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("takeover_child.py")
FANS = 8


def _spawn(url: str, schema: str, key: str, out: Path, *stop: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, schema, key, str(out), *stop], cwd=ROOT, env=env
    )


def _wait_for(out: Path, child: subprocess.Popen[bytes], text: str) -> None:
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        if out.exists() and out.read_text() == text:
            return
        time.sleep(0.05)
    raise AssertionError(f"the child never wrote {text!r} (exit code {child.poll()})")


async def _lottery_due(engine: AsyncEngine, tmp_path: Path) -> int:
    """A lottery drop with reservations whose drop time passed (on the real clock)."""
    start = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    fmt = "%Y-%m-%d %H:%M"
    cogs = [*DEFAULT_COGS, *(["cogs.drops"] if "cogs.drops" not in DEFAULT_COGS else [])]
    settings = FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)
    app = await App.create(settings, FakeClock(start), engine=engine, migrate=False)
    console = ConsoleAdapter(app)
    at = lambda delta: (start + delta).strftime(fmt)  # noqa: E731
    await console.handle_line(
        f'/drop create Prize 3 "{at(timedelta(days=1))}" lottery '
        f'opens="{at(timedelta(hours=1))}" closes="{at(timedelta(hours=20))}" waitlist=3'
    )
    await console.handle_line("/advance 1h")
    for i in range(FANS):
        await console.handle_line(f"/as fan{i} fan")
        await console.handle_line("/reserve 1")
    async with engine.connect() as conn:
        drop_id = int((await conn.execute(select(drops.c.id))).scalar_one())
        assert (await conn.execute(select(drops.c.drawn_at))).scalar_one() is None
    return drop_id


async def _rows(engine: AsyncEngine, like: str) -> list[tuple[str, int | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.dedup_key, outbox.c.account_id).where(outbox.c.dedup_key.like(like))
        )
        return [(r.dedup_key, r.account_id) for r in rows]


async def test_a_draw_killed_half_way_is_finished_after_a_restart(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    try:
        drop_id = await _lottery_due(engine, tmp_path)
        key = f"drop:{drop_id}:start"
        out = tmp_path / "child.txt"

        # The first process draws, announces the draw, tells the winners, and is killed just
        # before it tells the waiting list.
        child = _spawn(url, schema or "", key, out, "*:waiting")
        _wait_for(out, child, "stopped")
        child.send_signal(signal.SIGKILL)
        child.wait()
        async with engine.connect() as conn:
            finished = (
                await conn.execute(select(job_runs.c.finished_at).where(job_runs.c.key == key))
            ).scalar_one()
            winners = set((await conn.execute(select(wins.c.account_id))).scalars())
            waiting = set((await conn.execute(select(waitlist.c.account_id))).scalars())
        assert finished is None  # killed in the middle of the job
        assert len(winners) == 3 and len(waiting) == 3
        assert len(await _rows(engine, f"drop:{drop_id}:draw:%")) == 1
        assert {a for _, a in await _rows(engine, f"drop:{drop_id}:won:%")} == winners
        assert await _rows(engine, f"drop:{drop_id}:waiting:%") == []

        # Restarted: the claim's lease ran out, the job is taken over and finished.
        out.unlink()
        child = _spawn(url, schema or "", key, out)
        assert child.wait(timeout=180) == 0
        assert out.read_text() == "done"
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(wins))).scalar_one() == 3
            drawn = (await conn.execute(select(drops.c.drawn_at))).scalar_one()
        assert drawn is not None
        assert len(await _rows(engine, f"drop:{drop_id}:draw:%")) == 1  # announced once
        won = await _rows(engine, f"drop:{drop_id}:won:%")
        assert sorted(a for _, a in won if a) == sorted(winners)  # each winner told once
        told_waiting = await _rows(engine, f"drop:{drop_id}:waiting:%")
        assert sorted(a for _, a in told_waiting if a) == sorted(waiting)
    finally:
        await engine.dispose()


async def test_a_report_opened_but_not_announced_is_announced_after_a_restart(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    try:
        # A release eight days ago: the weekly four-grid time (Tuesday 10:00) has passed since.
        start = datetime.now(UTC) - timedelta(days=8)
        settings = FanloopSettings(data_dir=tmp_path / "data")
        app = await App.create(settings, FakeClock(start), engine=engine, migrate=False)
        boss = await member(app, "boss", Role.OWNER)
        await release(app, boss, "v1", ["Feature A", "Feature B"])
        out = tmp_path / "child.txt"

        # The first process opens the report and is killed before announcing it.
        child = _spawn(url, schema or "", "-", out, "fourgrid-open:*")
        _wait_for(out, child, "stopped")
        child.send_signal(signal.SIGKILL)
        child.wait()
        async with engine.connect() as conn:
            (report_id,) = (await conn.execute(select(reports.c.id))).scalars().all()
            (key,) = (
                await conn.execute(
                    select(job_runs.c.key).where(
                        job_runs.c.key.like("fourgrid-open:%"), job_runs.c.finished_at.is_(None)
                    )
                )
            ).scalars()
        assert await _rows(engine, "fourgrid-open:%") == []

        # Restarted: the opening is announced, once, for the report that was opened.
        out.unlink()
        child = _spawn(url, schema or "", key, out)
        assert child.wait(timeout=180) == 0
        assert out.read_text() == "done"
        async with engine.connect() as conn:
            assert (await conn.execute(select(reports.c.id))).scalars().all() == [report_id]
        assert len(await _rows(engine, f"fourgrid-open:{report_id}:%")) == 1
    finally:
        await engine.dispose()
