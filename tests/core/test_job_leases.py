"""A job key's claim has a lease: taken over when its holder died, kept while its work runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import scheduler
from bot.core.app import App
from bot.core.scheduler import LeaseLost, Scheduler, run_once
from storage.core.jobs import JobsRepo
from storage.core.schema import job_runs, leases

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


async def test_a_claim_is_taken_over_only_once_its_lease_ran_out(engine: AsyncEngine) -> None:
    wall = Wall()
    jobs = JobsRepo(engine, lease=timedelta(seconds=60), wall=wall)
    assert await jobs.claim("k", "dead-process", NOW)
    assert await jobs.unfinished("k") and not await jobs.done("k")
    assert not await jobs.claim("k", "restarted", NOW)  # its holder may still be at work
    wall.at += timedelta(seconds=61)
    assert await jobs.claim("k", "restarted", NOW)  # the holder stopped renewing: taken over
    assert not await jobs.claim("k", "third", NOW)  # the new holder's lease is fresh
    assert not await jobs.renew("k", "dead-process")  # the old holder lost it
    await jobs.finish("k", NOW)
    assert await jobs.done("k") and not await jobs.unfinished("k")
    wall.at += timedelta(days=1)
    assert not await jobs.claim("k", "third", NOW)  # finished work never runs again


async def test_a_claim_from_before_leases_is_taken_over(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(job_runs).values(key="old", holder="gone", started_at=NOW))
    assert await JobsRepo(engine).claim("old", "now", NOW)


async def test_run_once_releases_the_key_when_the_work_fails(app: App) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_once(app.jobs, "fails", NOW, boom)
    assert not await app.jobs.unfinished("fails")

    async def works() -> int:
        return 7

    assert await run_once(app.jobs, "fails", NOW, works) == (True, 7)
    assert await run_once(app.jobs, "fails", NOW, works) == (False, None)


async def test_long_work_renews_its_lease_and_is_not_taken_over(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = Wall()
    jobs = JobsRepo(engine, lease=timedelta(milliseconds=30), wall=wall)
    renewed = asyncio.Event()
    renew = jobs.renew

    async def spy(key: str, holder: str) -> bool:
        mine = await renew(key, holder)
        renewed.set()
        return mine

    monkeypatch.setattr(jobs, "renew", spy)
    release = asyncio.Event()

    async def long_work() -> str:
        await release.wait()
        return "done"

    running = asyncio.create_task(run_once(jobs, "long", NOW, long_work))
    for _ in range(3):  # three renewals, each with the wall clock moved past the last lease
        renewed.clear()
        await renewed.wait()
        wall.at += timedelta(milliseconds=20)
        assert not await jobs.claim("long", "another-process", NOW)
    release.set()
    assert await running == (True, "done")
    assert await jobs.done("long")


async def test_work_whose_key_was_taken_over_stops_here(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = JobsRepo(engine, lease=timedelta(milliseconds=30))
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def long_work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    running = asyncio.create_task(run_once(jobs, "stolen", NOW, long_work))
    await started.wait()
    async with engine.begin() as conn:  # the database was out of reach; another took it over
        await conn.execute(
            update(job_runs).where(job_runs.c.key == "stolen").values(holder="another-process")
        )
    with pytest.raises(LeaseLost):
        await running
    assert cancelled.is_set()
    async with engine.connect() as conn:  # the key stays with the process that took it over
        holder = (await conn.execute(select(job_runs.c.holder))).scalar_one()
    assert holder == "another-process"


async def test_work_cut_short_by_a_stop_gives_its_key_back(app: App) -> None:
    started = asyncio.Event()

    async def long_work() -> None:
        started.set()
        await asyncio.Event().wait()

    async def due() -> None:
        await run_once(app.jobs, "cut", NOW, long_work)

    app.due_work.append(due)
    sched = Scheduler(app)
    tick = asyncio.create_task(sched.tick())
    await started.wait()
    await sched.stop(grace=0)
    assert tick.done()
    assert not await app.jobs.unfinished("cut")  # the next tick anywhere runs it again


async def test_stop_gives_the_scheduler_lease_up(app: App) -> None:
    runs: list[str] = []

    async def work() -> None:
        runs.append(scheduler.HOLDER)

    app.due_work.append(work)
    first = Scheduler(app)
    await first.tick()
    await first.stop()
    async with app.engine.connect() as conn:
        assert (await conn.execute(select(leases))).first() is None
    other = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)
    other.due_work.append(work)
    await Scheduler(other, holder="another-process").tick()  # no wait for the lease to expire
    assert len(runs) == 2
