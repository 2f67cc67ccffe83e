"""Two Apps on one PostgreSQL schema, each with its own engine and a change feed that listens:
two processes' worth of shared state, inside one test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import FanloopSettings
from storage.engine import create_engine
from tests.conftest import PG_URL, make_engine

FEED_WAIT = 30.0  # seconds for a feed's listening connection (against a hang)


async def listening(app: App) -> None:
    """Wait until `app`'s feed listens."""
    assert app.changes.listener is not None
    await asyncio.wait_for(app.changes.listener.connected.wait(), FEED_WAIT)


@asynccontextmanager
async def two_listening_apps(
    db_kind: str, tmp_path: Path, settings: FanloopSettings, clock: FakeClock
) -> AsyncIterator[tuple[App, App]]:
    engine, schema = await make_engine(db_kind, tmp_path)
    apps = [
        await App.create(settings, clock, engine=e, migrate=False)
        for e in (engine, create_engine(PG_URL, schema=schema))
    ]
    try:
        for app in apps:
            app.start_feed()
            await listening(app)
        yield apps[0], apps[1]
    finally:
        for app in apps:
            await app.close()
