"""A stop in the middle of an outbox batch gives the undelivered rest back at once, so the
next start does not wait for the claim's lease; a batch claimed by a process that died is taken
over once its short lease lapses, a live worker's never; a parked reply is delivered like any
message."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.outbox import OutboxItem, OutboxWorker
from bot.core.reply import Reply
from storage.core.schema import outbox


async def _three_parked(app: App) -> None:
    """Three replies r0, r1, r2 waiting in the outbox."""
    ctx = await app.context(
        platform="console",
        space_id="console",
        space_name="console",
        user_id="boss",
        display_name="Boss",
        role=Role.OWNER,
    )
    for i in range(3):
        await app.outbox.park(
            ctx.community.id, "console", "console", Reply(text=f"r{i}"), member=False
        )


async def test_a_stop_mid_batch_gives_the_rest_back(app: App) -> None:
    await _three_parked(app)
    sent: list[str] = []
    stuck = asyncio.Event()

    async def deliver(item: OutboxItem) -> None:
        if sent:
            stuck.set()
            await asyncio.Event().wait()  # the platform holds the second one up
        sent.append(item.payload["text"])

    worker = OutboxWorker(app.outbox, "console", deliver)
    running = asyncio.create_task(worker.run_once())
    await stuck.wait()
    running.cancel()
    await asyncio.wait({running})
    now = app.clock.now()
    async with app.engine.connect() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
    assert sent == ["r0"] and rows[0].delivered_at is not None
    assert all(r.delivered_at is None and r.next_attempt_at <= now for r in rows[1:])
    assert all(r.payload["ephemeral"] is False for r in rows)

    async def deliver_all(item: OutboxItem) -> None:
        sent.append(item.payload["text"])

    assert await OutboxWorker(app.outbox, "console", deliver_all).run_once() == 2
    assert sent == ["r0", "r1", "r2"]


async def test_a_stop_lets_the_send_under_way_finish_and_records_it(app: App) -> None:
    """The stop arrives while the platform is answering: that message is recorded as sent
    (not sent again after the restart) and the batch's rest goes back to the queue."""
    await _three_parked(app)
    sent: list[str] = []
    under_way, answer = asyncio.Event(), asyncio.Event()

    async def deliver(item: OutboxItem) -> None:
        under_way.set()
        await answer.wait()  # the platform's answer is still on its way
        sent.append(item.payload["text"])

    stop = asyncio.Event()
    worker = asyncio.create_task(OutboxWorker(app.outbox, "console", deliver).run_forever(stop))
    await under_way.wait()
    stop.set()
    finishing = asyncio.create_task(OutboxWorker.finish(worker, app.outbox, grace=30))
    answer.set()
    await finishing
    async with app.engine.connect() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
    assert sent == ["r0"]
    assert [r.delivered_at is not None for r in rows] == [True, False, False]
    assert all(r.next_attempt_at <= app.clock.now() for r in rows[1:])


async def test_a_busy_worker_keeps_its_batch_and_a_dead_ones_batch_is_taken_soon(
    app: App, clock: FakeClock
) -> None:
    """A batch is leased for `OutboxWorker.LEASE` and the lease is extended while its worker
    is busy: another worker takes nothing from a live one (held up by the platform for longer
    than the lease), and takes the batch of one that died once its lease lapsed."""
    await _three_parked(app)
    held = asyncio.Event()

    async def slow(item: OutboxItem) -> None:
        held.set()
        await asyncio.Event().wait()  # the platform holds it up, for longer than the lease

    sent: list[str] = []

    async def deliver(item: OutboxItem) -> None:
        sent.append(item.payload["text"])

    busy = OutboxWorker(app.outbox, "console", slow)
    busy.LEASE = timedelta(seconds=0.3)
    other = OutboxWorker(app.outbox, "console", deliver)
    running = asyncio.create_task(busy.run_once())
    await held.wait()
    clock.advance(timedelta(minutes=1))  # far past the lease as first taken

    async def leased_from_now() -> bool:
        async with app.engine.connect() as conn:
            rows = (await conn.execute(select(outbox.c.next_attempt_at))).all()
        return all(r[0] > clock.now() for r in rows)

    deadline = asyncio.get_running_loop().time() + 60  # only against a hang
    while not await leased_from_now():  # the busy worker extends its lease
        assert asyncio.get_running_loop().time() < deadline, "the lease was never extended"
        await asyncio.sleep(0.02)
    assert await other.run_once() == 0 and sent == []
    running.cancel()  # a stop: the batch goes back at once
    await asyncio.wait({running})

    # A worker that claimed the batch and died (it never extends the lease, never gives back).
    dead = await app.outbox.repo.claim_due("console", clock.now(), 50, OutboxWorker.LEASE)
    assert len(dead) == 3
    assert await other.run_once() == 0
    clock.advance(OutboxWorker.LEASE + timedelta(seconds=1))
    assert await other.run_once() == 3
    assert sorted(sent) == ["r0", "r1", "r2"]
