"""What several Telegram processes share through PostgreSQL, tested with one object per
process: the sending limits (two throttles on one database keep the limits of one), the
polling lock (one poller per schema; another takes over when it is gone) and the takeover of
the updates a dead process left unhandled (by a survivor, once)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram.throttle import Limits, SharedThrottle
from storage.engine import create_engine
from storage.platform.telegram_inbox import TelegramInboxRepo
from storage.platform.telegram_pace import PaceLimits, TelegramPaceRepo
from storage.platform.telegram_workers import WorkerPresence
from tests.conftest import PG_URL, make_engine
from tests.databases import create_schema, drop_schema

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
GROUP = -100123
MEMBER = 4242


@pytest_asyncio.fixture
async def pg(db_kind: str, tmp_path: object) -> AsyncIterator[AsyncEngine]:
    if db_kind != "postgresql":
        pytest.skip("several processes share state through PostgreSQL only")
    engine, _ = await make_engine(db_kind, tmp_path)  # type: ignore[arg-type]
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_slot_is_taken_once_and_the_wait_is_told(pg: AsyncEngine) -> None:
    limits = PaceLimits(
        per_chat_interval=30.0, group_count=2, group_window=60.0, overall_count=1000,
        overall_window=1.0,
    )  # fmt: skip
    one, two = TelegramPaceRepo(pg), TelegramPaceRepo(pg)
    assert await one.take(MEMBER, limits) == 0.0
    wait = await two.take(MEMBER, limits)  # the other process: the chat's interval holds
    assert 29.0 < wait <= 30.0
    assert await two.take(MEMBER + 1, limits) == 0.0  # another chat is free


async def test_the_overall_limit_counts_every_chat_of_every_process(pg: AsyncEngine) -> None:
    limits = PaceLimits(
        per_chat_interval=0.0, group_count=20, group_window=60.0, overall_count=3,
        overall_window=60.0,
    )  # fmt: skip
    repos = [TelegramPaceRepo(pg), TelegramPaceRepo(pg)]
    waits = [await repos[i % 2].take(MEMBER + i, limits) for i in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(w > 59.0 for w in waits[3:])


async def test_two_processes_keep_the_group_limit_of_one(pg: AsyncEngine) -> None:
    window = 0.6
    limits = Limits(per_chat_interval=0.0, per_group=(4, window), overall=(1000, 1.0))
    throttles = [SharedThrottle(TelegramPaceRepo(pg), limits) for _ in range(2)]
    sent: list[float] = []

    async def send(throttle: SharedThrottle) -> None:
        await throttle.wait(GROUP)
        sent.append(time.monotonic())

    await asyncio.gather(*(send(throttles[i % 2]) for i in range(12)))
    sent.sort()
    # 12 messages at 4 a window: the last two windows after the first message at the earliest
    # (two processes pacing alone would send 8 a window).
    assert sent[-1] - sent[0] >= 2 * window - 0.05
    assert sum(t.taken for t in throttles) == 12
    assert all(t.taken > 0 for t in throttles)


async def test_one_poller_and_a_takeover_when_it_is_gone(pg: AsyncEngine) -> None:
    first, second = WorkerPresence(pg), WorkerPresence(pg)
    await first.start()
    await second.start()
    try:
        assert first.worker != second.worker
        assert await first.try_polling()
        assert not await second.try_polling()
        await first.close()  # its connection ends (as with a SIGKILL): its locks are released
        assert await second.try_polling()
    finally:
        await first.close()
        await second.close()


async def test_deployments_in_two_schemas_of_one_database_poll_side_by_side(
    pg: AsyncEngine,
) -> None:
    """Advisory locks belong to the whole database; the polling lock is each schema's own."""
    schema = await create_schema(PG_URL, prefix="other")
    other_engine = create_engine(PG_URL, schema=schema)
    here, there, there_too = WorkerPresence(pg), WorkerPresence(other_engine), None
    try:
        await here.start()
        await there.start()
        assert await here.try_polling()
        assert await there.try_polling()  # another deployment: not this one's poller
        there_too = WorkerPresence(other_engine)
        await there_too.start()
        assert not await there_too.try_polling()  # within one schema, still one poller
    finally:
        for p in (here, there, there_too):
            if p is not None:
                await p.close()
        await other_engine.dispose()
        await drop_schema(PG_URL, schema)


async def test_a_survivor_takes_over_what_a_dead_process_left_unhandled(
    pg: AsyncEngine,
) -> None:
    repo = TelegramInboxRepo(pg)
    dead, alive, other = WorkerPresence(pg), WorkerPresence(pg), WorkerPresence(pg)
    for p in (dead, alive, other):
        await p.start()
    try:
        await repo.store([{"update_id": 1}, {"update_id": 2}], NOW, dead.worker)
        await repo.store([{"update_id": 3}], NOW, alive.worker)
        await repo.mark_handled([2], NOW)
        await repo.store([{"update_id": 4}], NOW, None)  # stored before workers were recorded
        assert await other.adopt() == [{"update_id": 4}]  # the others are alive
        await dead.close()
        # Two survivors look at once: each update is taken over by one of them.
        got = await asyncio.gather(other.adopt(), alive.adopt())
        assert sorted(u["update_id"] for g in got for u in g) == [1]
        assert await other.adopt() == [] and await alive.adopt() == []
    finally:
        for p in (dead, alive, other):
            await p.close()
