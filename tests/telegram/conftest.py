"""The real adapter (python-telegram-bot 22) against the local Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.core.app import App
from devtools.servers.telegram_api import FakeTelegram
from tests.telegram.world import ADMIN, GROUP, OWNER, FakeMonotonic, World, make_adapter


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    server.set_admins(GROUP, creator=OWNER["id"], admins=(ADMIN["id"],))
    server.titles[GROUP] = "Fans of Orange"
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def world(app: App, fake: FakeTelegram) -> AsyncIterator[World]:
    time = FakeMonotonic()
    adapter = make_adapter(app, fake, time)
    async with adapter.application:
        try:
            yield World(fake, adapter, app, time)
        finally:
            await adapter.edits.close()
            await adapter.close()
