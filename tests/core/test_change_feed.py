"""The change feed: a message arrives only once its transaction commits, in order; a feed that
was disconnected resyncs (the similar-suggestion index is rebuilt and sees what it missed);
SQLite's feed does nothing; a chat's administrators are forgotten by every process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.change_feed import ChangeFeed
from bot.core.clock import FakeClock
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from config.settings import FanloopSettings
from storage.change_feed import publish
from tests.feeds import listening, two_listening_apps
from tests.helpers import member

pg_only = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


async def until(check: Callable[[], bool], what: str, deadline: float = 5.0) -> None:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < deadline, f"not within {deadline} s: {what}"
        await asyncio.sleep(0.01)


@pytest_asyncio.fixture
async def two_apps(
    db_kind: str, tmp_path: Path, settings: FanloopSettings, clock: FakeClock
) -> AsyncIterator[tuple[App, App]]:
    """Two Apps on one PostgreSQL schema, each with its own engine and listening feed."""
    async with two_listening_apps(db_kind, tmp_path, settings, clock) as apps:
        yield apps


@pg_only
async def test_a_message_arrives_on_commit_only_and_in_order(engine: AsyncEngine) -> None:
    heard: list[Any] = []
    feed = ChangeFeed(engine)
    feed.subscribe("probe", lambda data: heard.append(data["n"]))
    feed.start()
    try:
        assert feed.listener is not None
        await asyncio.wait_for(feed.listener.connected.wait(), 30)
        with pytest.raises(RuntimeError):
            async with engine.begin() as conn:
                await publish(conn, "probe", {"n": "rolled back"})
                raise RuntimeError
        for n in range(5):
            async with engine.begin() as conn:
                await publish(conn, "probe", {"n": n})
        await until(lambda: len(heard) >= 5, "five messages")
        assert heard == [0, 1, 2, 3, 4]
    finally:
        await feed.stop()


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_on_sqlite_the_feed_does_nothing(engine: AsyncEngine) -> None:
    feed = ChangeFeed(engine)
    feed.start()
    assert not feed.shared and not feed.live and feed.listener is None
    async with engine.begin() as conn:
        await publish(conn, "probe", {"n": 1})  # no error, nothing sent
    await feed.announce("probe", {"n": 2})
    await feed.stop()


@pg_only
async def test_after_a_disconnection_the_index_catches_up(two_apps: tuple[App, App]) -> None:
    a, b = two_apps
    alice = await member(a, "alice", space="shared")
    bob = await member(b, "bob", space="shared")
    cid = alice.community.id
    sb = b.services.get(SuggestionService)
    assert await sb.search(cid, "dark mode") == []  # B's index is built
    # B stops listening: what A writes now reaches B by no message.
    await b.changes.stop()
    sa = a.services.get(SuggestionService)
    posted = await sa.submit(cid, alice.member.account_id, "Dark mode", "at night", None)
    assert posted.posted is not None
    assert await sb.search(cid, "dark mode") == []  # B's index is stale
    b.start_feed()  # listening again: B resyncs
    await listening(b)
    found = await sb.search(cid, "dark mode")
    assert [r.id for r, _ in found] == [posted.posted.id]
    assert bob.community.id == cid


@pg_only
async def test_a_chat_whose_admins_changed_is_forgotten_everywhere(
    two_apps: tuple[App, App],
) -> None:
    from telegram import Bot

    from bot.adapters.telegram.members import RoleCache

    a, b = two_apps
    bot = Bot("7000001:TEST-token")
    here, there = RoleCache(bot, a), RoleCache(bot, b)
    there._cache[-100] = (datetime.now(), {42: Role.ADMIN})
    there._cache[-200] = (datetime.now(), {43: Role.ADMIN})
    await here.changed(-100)
    await until(lambda: -100 not in there._cache, "the other process forgets the chat")
    assert -200 in there._cache
