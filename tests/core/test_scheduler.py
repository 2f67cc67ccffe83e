"""The scheduler ticks due work, and only the lease holder does when processes share a database."""

from __future__ import annotations

import asyncio

from bot.core.app import App
from bot.core.scheduler import Scheduler


async def test_tick_runs_due_work_only_for_the_lease_holder(app: App) -> None:
    runs: list[str] = []

    async def work() -> None:
        runs.append("first")

    app.due_work.append(work)
    first = Scheduler(app)
    await first.tick()
    assert runs == ["first"]

    other = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)

    async def other_work() -> None:
        runs.append("second")

    other.due_work.append(other_work)
    second = Scheduler(other, holder="another-process")
    await second.tick()  # the lease is held by the first process
    assert runs == ["first"]
    await first.tick()  # the holder renews it and keeps ticking
    assert runs == ["first", "first"]


async def test_apscheduler_drives_the_tick(app: App) -> None:
    ticked = asyncio.Event()

    async def work() -> None:
        ticked.set()

    app.due_work.append(work)
    scheduler = Scheduler(app, interval=0.05)
    scheduler.start()
    try:
        await asyncio.wait_for(ticked.wait(), 5)
    finally:
        await scheduler.stop()  # and the tick under way finishes before the engine closes


async def test_stop_lets_a_tick_under_way_finish(app: App) -> None:
    finished: list[bool] = []

    async def slow() -> None:
        await asyncio.sleep(0.2)
        finished.append(True)

    app.due_work.append(slow)
    scheduler = Scheduler(app)
    tick = asyncio.create_task(scheduler.tick())
    await asyncio.sleep(0.05)  # the tick holds the lease and is inside the due work
    await scheduler.stop()
    assert finished == [True] and tick.done()


async def test_stop_lets_a_tick_apscheduler_started_finish(app: App) -> None:
    """APScheduler cancels the coroutines it runs when it shuts down: stop() must wait for the
    tick first, so a job under way completes instead of being cut short at every exit."""
    inside, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def work() -> None:
        inside.set()
        await release.wait()
        finished.append(True)

    app.due_work.append(work)
    scheduler = Scheduler(app, interval=60)
    scheduler.start()
    await asyncio.wait_for(inside.wait(), 5)
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0)  # stop() is now waiting for the tick
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert finished == [True]
