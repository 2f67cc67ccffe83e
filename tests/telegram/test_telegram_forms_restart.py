"""A form in a private chat is kept in the database: a restart of the bot does not lose it, and
a form left alone too long is not picked up again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.suggestions.service import SuggestionService
from config.settings import FanloopSettings
from devtools.servers.telegram_api import FakeTelegram
from storage.platform.telegram_forms import TelegramFormsRepo
from tests.telegram.world import CAROL, GROUP, FakeMonotonic, World, make_adapter


@asynccontextmanager
async def running(app: App, fake: FakeTelegram) -> AsyncIterator[World]:
    """One run of the bot: an adapter started, and stopped the way the runner stops it."""
    time = FakeMonotonic()
    adapter = make_adapter(app, fake, time)
    async with adapter.application:
        try:
            yield World(fake, adapter, app, time)
        finally:
            await adapter.edits.close()
    await adapter.homes.flush()  # the runner saves the home groups when it stops


async def restarted(engine: AsyncEngine, clock: FakeClock, settings: FanloopSettings) -> App:
    """A new process over the same database."""
    return await App.create(settings, clock, engine=engine, migrate=False)


async def start_form(world: World) -> None:
    await world.say(CAROL, "/help")  # Carol's home group is now GROUP
    await world.dm(CAROL, "/suggest")
    await world.dm(CAROL, "Offline maps")
    assert world.last(CAROL["id"])["text"].startswith("/suggest · step 2 of 2")


async def test_form_carries_on_after_a_restart(
    app: App,
    fake: FakeTelegram,
    engine: AsyncEngine,
    clock: FakeClock,
    settings: FanloopSettings,
) -> None:
    async with running(app, fake) as world:
        await start_form(world)
    saved = await TelegramFormsRepo(engine).get(str(CAROL["id"]))
    assert saved is not None
    assert (saved.command, saved.step, saved.answers) == ("suggest", 1, {"title": "Offline maps"})

    app2 = await restarted(engine, clock, settings)
    clock.advance(timedelta(minutes=20))
    async with running(app2, fake) as world:
        await world.dm(CAROL, "For the subway, where there is no signal")
        assert "#1 Offline maps" in world.last(CAROL["id"])["text"]
        assert "#1 Offline maps" in world.last(GROUP)["text"]
    row = await app2.services.get(SuggestionService).get(1, 1)
    assert (row.title, row.details, row.category) == (
        "Offline maps",
        "For the subway, where there is no signal",
        None,
    )
    assert await TelegramFormsRepo(engine).get(str(CAROL["id"])) is None


async def test_a_lapsed_form_is_not_resumed_after_a_restart(
    app: App,
    fake: FakeTelegram,
    engine: AsyncEngine,
    clock: FakeClock,
    settings: FanloopSettings,
) -> None:
    async with running(app, fake) as world:
        await start_form(world)
    app2 = await restarted(engine, clock, settings)
    clock.advance(timedelta(minutes=31))
    async with running(app2, fake) as world:
        await world.dm(CAROL, "For the subway")
        assert world.last(CAROL["id"])["text"] == "Commands start with /. /help lists them."
        await world.dm(CAROL, "/skip")
        assert world.last(CAROL["id"])["text"] == "There is no form in progress."
    assert await app2.services.get(SuggestionService).newest(1) == []
    assert await TelegramFormsRepo(engine).get(str(CAROL["id"])) is None


async def test_lapsed_forms_are_purged(
    app: App, fake: FakeTelegram, engine: AsyncEngine, clock: FakeClock
) -> None:
    async with running(app, fake) as world:
        await start_form(world)
        assert await world.adapter.forms.purge(clock.now()) == 0
        clock.advance(timedelta(minutes=31))
        assert await world.adapter.forms.purge(clock.now()) == 1
    assert await TelegramFormsRepo(engine).get(str(CAROL["id"])) is None
