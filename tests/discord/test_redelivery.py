"""An interaction delivered more than once (the same id) acts once: a button, a slash command, a
form; delivered again at once, later, after a restart of the bot, and during a burst. The ids
are forgotten after two days."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.adapters.discord import Tuning
from bot.core.app import App
from bot.core.commands import CommandSpec
from bot.core.context import Context
from bot.core.reply import Reply
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import FakeDiscord, Interaction
from storage.platform.messages import MessagesRepo
from storage.platform.schema import processed_events
from tests.discord.conftest import Bot, StartBot, buttons, eventually, suggest, text_of


@pytest.fixture(autouse=True)
def _log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.discord.respond")


def responses(fake: FakeDiscord, record: Interaction) -> list[int]:
    """The status of every response the bot tried to give the interaction."""
    return [c.status for c in fake.calls_to("POST", rf"/interactions/{record.id}/[^/]+/callback")]


async def settled(
    caplog: pytest.LogCaptureFixture, fake: FakeDiscord, record: Interaction, times: int = 1
) -> None:
    """Wait until the bot is done with `times` redeliveries of the interaction: it let them go
    (and said so), or it tried to answer them (which Discord refuses)."""
    needle = f"interaction {record.id} "

    async def done() -> bool:
        lines = [r.getMessage() for r in caplog.records]
        let_go = sum(needle in line and "delivered again" in line for line in lines)
        return let_go + len(responses(fake, record)) - 1 >= times

    await eventually(done)


async def votes(app: App, sid: int) -> int:
    cid, _ = await app.identity.community_for_space(
        "discord", "1100000000000000100", "", app.clock.now()
    )
    return (await app.services.get(SuggestionService).get(cid, sid)).votes


async def test_a_press_delivered_twice_votes_once(
    bot: Bot, fake: FakeDiscord, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    bob = fake.add_member("Bob")
    press = fake.press(bob, card, buttons(card)[0]["custom_id"])
    first = await bot.run(press)
    assert "Votes now: 2" in text_of(first.message)
    again = await fake.send(press)
    assert again is first and again.deliveries == 2
    await settled(caplog, fake, first)
    assert await votes(app, 1) == 2  # not taken back
    assert responses(fake, first) == [200]  # the redelivery was not answered either
    # A new press by the same member is a new interaction: it toggles as ever.
    await bot.run(fake.press(bob, card, buttons(card)[0]["custom_id"]))
    assert await votes(app, 1) == 1


async def test_presses_delivered_twice_at_once_vote_once_each(
    bot: Bot, fake: FakeDiscord, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    card = await suggest(bot, fake.add_member("Alice"), "Offline maps")
    presses = [fake.press(fake.add_member(f"Fan{i}"), card, "sv:1") for i in range(6)]
    # Each one twice in a row, before the bot answered any: all are worked on together.
    records = [await fake.send(press) for press in presses for _ in range(2)]
    for record in records:
        await record.wait()
        await settled(caplog, fake, record)
        assert responses(fake, record) == [200]
    assert await votes(app, 1) == 7


async def test_a_slash_command_and_a_form_delivered_twice_run_once(
    app: App, fake: FakeDiscord, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[str] = []

    async def tally(ctx: Context) -> Reply:
        runs.append(ctx.member.display_name)
        return Reply(text=f"run {len(runs)}")

    app.commands.add(CommandSpec("tally", "help.help", tally))
    bot = await start_bot()
    alice = fake.add_member("Alice")
    command = fake.slash(alice, "tally")
    first = await bot.run(command)
    await fake.send(command)
    await settled(caplog, fake, first)
    assert runs == ["Alice"] and text_of(first.message) == "run 1"
    assert responses(fake, first) == [200]

    # The form: opening it, and submitting it, each delivered twice.
    opening = fake.slash(alice, "suggest")
    opened = await bot.run(opening)
    await fake.send(opening)
    await settled(caplog, fake, opened)
    assert opened.modal is not None and responses(fake, opened) == [200]
    submission = fake.submit(alice, opened.modal, {"title": "Widgets"})
    submitted = await bot.run(submission)
    await fake.send(submission)
    await settled(caplog, fake, submitted)
    assert "#1 Widgets" in text_of(submitted.message)
    assert responses(fake, submitted) == [200]
    answer = await bot.slash(alice, "show", id="2")
    assert "no suggestion #2" in text_of(answer.message)  # posted once


async def _restarted(app: App) -> App:
    return await App.create(app.settings, app.clock, engine=app.engine, migrate=False)


async def test_a_redelivery_after_a_restart_runs_once(
    bot: Bot,
    fake: FakeDiscord,
    app: App,
    start_bot: StartBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    card = await suggest(bot, fake.add_member("Alice"), "Battery saver")
    press = fake.press(fake.add_member("Bob"), card, "sv:1")
    first = await bot.run(press)
    assert "Votes now: 2" in text_of(first.message)
    await bot.close()
    # A new process: nothing of the first delivery in memory, only in the database. Delivered
    # twice more at once: this process lets one go on arrival, the database the other.
    restarted = await _restarted(app)
    await start_bot(app_=restarted)
    await fake.send(press)
    await fake.send(press)
    await settled(caplog, fake, first, times=2)
    assert await votes(restarted, 1) == 2
    assert responses(fake, first) == [200]


async def test_a_redelivery_during_a_burst_after_a_restart_runs_once(
    bot: Bot,
    fake: FakeDiscord,
    app: App,
    start_bot: StartBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    card = await suggest(bot, fake.add_member("Alice"), "Night shift")
    press = fake.press(fake.add_member("Bob"), card, "sv:1")
    first = await bot.run(press)
    await bot.close()
    restarted = await _restarted(app)
    release = asyncio.Event()
    entered = asyncio.Event()

    async def hold(ctx: Context) -> Reply:
        entered.set()
        await release.wait()
        return Reply(text="done")

    restarted.commands.add(CommandSpec("hold", "help.help", hold))
    await start_bot(Tuning(ack_budget=2.0, max_concurrency=1, guild_ready_timeout=0.05), restarted)
    busy = await fake.send(fake.slash(fake.add_member("Busy"), "hold"))
    await entered.wait()
    # One interaction at work and one more arriving is a burst: the redelivery is acknowledged
    # before any work, Discord refuses that as already acknowledged, and nothing is done.
    await fake.send(press)
    await settled(caplog, fake, first)
    assert responses(fake, first) == [200, 400]
    release.set()
    await busy.wait()
    assert await votes(restarted, 1) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nor a traceback


async def test_old_event_ids_are_forgotten(app: App, start_bot: StartBot) -> None:
    now = app.clock.now()
    messages = MessagesRepo(app.engine)
    assert await messages.first_time("discord", "interaction:1", now - timedelta(days=3))
    assert await messages.first_time("discord", "interaction:2", now - timedelta(hours=1))
    await start_bot()

    async def kept() -> set[str]:
        async with app.engine.connect() as conn:
            rows = await conn.execute(select(processed_events.c.event_id))
            return {str(r) for r in rows.scalars()}

    async def forgotten() -> bool:
        return "interaction:1" not in await kept()

    await eventually(forgotten)
    assert "interaction:2" in await kept()
