"""Scheduled work runs once per period key, across processes and restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.scheduler import last_fire, run_once
from storage.core.jobs import JobsRepo

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def test_run_once_per_key_even_concurrently(engine) -> None:  # type: ignore[no-untyped-def]
    jobs_a, jobs_b = JobsRepo(engine), JobsRepo(engine)
    runs: list[str] = []

    async def work() -> str:
        runs.append("ran")
        return "done"

    results = await asyncio.gather(
        run_once(jobs_a, "fourgrid:1:2026-W48", NOW, work),
        run_once(jobs_b, "fourgrid:1:2026-W48", NOW, work),
    )
    assert sorted(r[0] for r in results) == [False, True]
    assert runs == ["ran"]
    assert (await run_once(jobs_a, "fourgrid:1:2026-W49", NOW, work))[0]


async def test_failed_work_is_tried_again(engine) -> None:  # type: ignore[no-untyped-def]
    jobs = JobsRepo(engine)

    async def broken() -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await run_once(jobs, "k", NOW, broken)

    async def fine() -> int:
        return 1

    assert await run_once(jobs, "k", NOW, fine) == (True, 1)


async def test_scheduler_lease(engine) -> None:  # type: ignore[no-untyped-def]
    jobs = JobsRepo(engine)
    until = NOW + timedelta(seconds=90)
    assert await jobs.acquire_lease("scheduler", "a", NOW, until)
    assert not await jobs.acquire_lease("scheduler", "b", NOW, until)
    assert await jobs.acquire_lease("scheduler", "a", NOW, until)  # renewal
    assert await jobs.acquire_lease(
        "scheduler", "b", until + timedelta(seconds=1), until + timedelta(seconds=91)
    )


def test_last_fire_follows_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Tuesday 10:00 Berlin: summer time (UTC+2) before 2026-10-25, winter time (UTC+1) after.
    summer = last_fire("tue", 10, 0, berlin, datetime(2026, 10, 22, 12, 0, tzinfo=UTC))
    winter = last_fire("tue", 10, 0, berlin, datetime(2026, 10, 29, 12, 0, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    assert winter.astimezone(UTC) == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
    # Exactly at the fire time it counts as fired; a minute before, the previous week.
    at = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
    assert last_fire("tue", 10, 0, berlin, at) == at
    assert last_fire("tue", 10, 0, berlin, at - timedelta(minutes=1)).astimezone(UTC) == datetime(
        2026, 10, 20, 8, 0, tzinfo=UTC
    )
