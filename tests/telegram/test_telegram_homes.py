"""Members' home groups written in batches: one upsert for the whole batch leaves each member
with the group of their last write, new members and known ones alike."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram.members import Homes
from bot.core.app import App
from storage.platform.schema import telegram_homes
from storage.platform.telegram import Home, TelegramRepo
from tests.conftest import START

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_minutes = itertools.count()

# A batch: (member, group) pairs, a member at most once (as `Homes` hands them over).
BATCH = st.dictionaries(st.integers(1, 12), st.integers(1, 4), max_size=12)


async def test_a_batch_inserts_new_members_and_moves_known_ones(engine: AsyncEngine) -> None:
    repo = TelegramRepo(engine)
    await repo.set_homes([])  # nothing to write: no transaction
    await repo.set_homes([("1", Home("-100", "Fans"), START), ("2", Home("-100", "Fans"), START)])
    later = START + timedelta(minutes=5)
    await repo.set_homes(
        [("2", Home("-200", "x" * 300), later), ("3", Home("-100", "Fans"), later)]
    )
    assert await repo.home("1") == Home("-100", "Fans")
    assert await repo.home("2") == Home("-200", "x" * 128)  # titles are cut to the column
    assert await repo.home("3") == Home("-100", "Fans")
    async with engine.connect() as conn:
        moved = await conn.scalar(
            select(telegram_homes.c.updated_at).where(telegram_homes.c.user_id == "2")
        )
    assert moved is not None and moved.replace(tzinfo=None) == later.replace(tzinfo=None)


@PROPERTY
@given(batches=st.lists(BATCH, max_size=5))
async def test_after_any_batches_each_member_has_their_last_home(
    engine: AsyncEngine, batches: list[dict[int, int]]
) -> None:
    repo = TelegramRepo(engine)
    async with engine.begin() as conn:
        await conn.execute(delete(telegram_homes))
    expected: dict[int, int] = {}
    for batch in batches:
        at = START + timedelta(minutes=next(_minutes))
        rows = [(str(u), Home(str(-g), f"Group {g}"), at) for u, g in batch.items()]
        await repo.set_homes(rows)
        expected.update(batch)
    for u, g in expected.items():
        assert await repo.home(str(u)) == Home(str(-g), f"Group {g}")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(telegram_homes)) == len(expected)


class _HeldRepo(TelegramRepo):
    """Writes homes once `release` is set, so a flush can be caught mid-write."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def set_homes(self, homes: list[tuple[str, Home, datetime]]) -> None:
        self.started.set()
        await self.release.wait()
        await super().set_homes(homes)


async def test_a_stop_that_cancels_a_flush_lets_its_write_finish(app: App) -> None:
    repo = _HeldRepo(app.engine)
    homes = Homes(repo, app)
    homes.touch(101, -100, "Fans")
    flushing = asyncio.create_task(homes.flush())
    await repo.started.wait()
    flushing.cancel()  # as a stop cancels the housekeeping task
    with pytest.raises(asyncio.CancelledError):
        await flushing
    repo.release.set()
    await homes.flush()  # the last flush of a stop waits for the write still running
    assert await TelegramRepo(app.engine).home("101") == Home("-100", "Fans")
