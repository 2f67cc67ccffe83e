"""Buttons and selects route by their action alone: on fresh messages, on messages from before a
restart, and on DMs."""

from __future__ import annotations

from bot.core.actions import make_action
from bot.core.app import App
from bot.core.commands import CommandSpec, Role
from bot.core.context import Context
from bot.core.reply import Button, Reply, Select, SelectOption
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import FakeDiscord
from storage.platform.messages import MessagesRepo
from tests.discord.conftest import (
    Bot,
    StartBot,
    buttons,
    eventually,
    is_ephemeral,
    suggest,
    text_of,
)


async def votes(app: App, sid: int) -> int:
    cid, _ = await app.identity.community_for_space(
        "discord", "1100000000000000100", "", app.clock.now()
    )
    return (await app.services.get(SuggestionService).get(cid, sid)).votes


async def test_button_votes_and_toggles(bot: Bot, fake: FakeDiscord, app: App) -> None:
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    bob = fake.add_member("Bob")
    (button,) = buttons(card)
    answer = await bot.run(fake.press(bob, card, button["custom_id"]))
    assert answer.ack_type == 4 and is_ephemeral(answer.message)
    assert "Votes now: 2" in text_of(answer.message)
    assert await votes(app, 1) == 2
    answer = await bot.run(fake.press(bob, card, button["custom_id"]))
    assert await votes(app, 1) == 1


async def test_button_on_a_message_from_before_a_restart(
    bot: Bot, fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    card = await suggest(bot, fake.add_member("Alice"), "Offline maps")
    await bot.close()
    restarted = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)
    bot2 = await start_bot(app_=restarted)
    # A brand-new process: nothing of the old message is in memory, only its custom id.
    answer = await bot2.run(
        fake.press(fake.add_member("Carol"), card, buttons(card)[0]["custom_id"])
    )
    assert "Votes now: 2" in text_of(answer.message)
    # And a message posted long ago (never seen by this process) works the same way.
    old = fake.bot_message([make_action("sv", 1)])
    answer = await bot2.run(fake.press(fake.add_member("Dan"), old, "sv:1"))
    assert "Votes now: 3" in text_of(answer.message)


async def _menu(ctx: Context) -> Reply:
    return Reply(
        title="Pick one",
        buttons=[
            Button("Show #1", make_action("ss", 1), "primary"),
            Button("dup", make_action("ss", 1)),
        ],
        select=Select(
            "Suggestions",
            (
                SelectOption("#1", make_action("ss", 1), "the first"),
                SelectOption("#2", make_action("ss", 2)),
            ),
        ),
    )


async def test_select_routes_the_chosen_option(
    app: App, fake: FakeDiscord, start_bot: StartBot
) -> None:
    app.commands.add(CommandSpec("menu", "help.help", _menu))
    bot = await start_bot()
    alice = fake.add_member("Alice")
    await suggest(bot, alice, "Battery saver")
    menu = (await bot.slash(alice, "menu")).message
    rows = menu["components"]
    # Two buttons with one action become one (Discord refuses duplicate custom ids).
    assert [c["custom_id"] for c in rows[0]["components"]] == ["ss:1"]
    (select,) = rows[1]["components"]
    assert select["type"] == 3 and [o["value"] for o in select["options"]] == ["ss:1", "ss:2"]
    answer = await bot.run(fake.press(alice, menu, select["custom_id"], values=["ss:1"]))
    assert "#1 Battery saver" in text_of(answer.message)
    answer = await bot.run(fake.press(alice, menu, select["custom_id"], values=["ss:2"]))
    assert "no suggestion #2" in text_of(answer.message) and is_ephemeral(answer.message)


async def test_unknown_action_is_a_clear_error(bot: Bot, fake: FakeDiscord) -> None:
    old = fake.bot_message(["zz:9"])
    answer = await bot.run(fake.press(fake.add_member("Alice"), old, "zz:9"))
    assert is_ephemeral(answer.message)
    assert text_of(answer.message) == "This button no longer works."


async def test_button_in_a_dm_acts_in_the_community_of_the_message(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    alice = fake.add_member("Alice")
    await suggest(bot, alice, "Widgets")
    bob = fake.add_member("Bob")
    ctx = await app.context(
        platform="discord",
        space_id="1100000000000000100",
        space_name="Fan Club",
        user_id=bob["id"],
        display_name="Bob",
        role=Role.FAN,
    )
    await app.outbox.notify(
        ctx.community.id,
        [ctx.member.account_id],
        lambda loc: Reply(text="Vote?", buttons=[Button("+1", "sv:1")]),
    )
    dm_channel = fake.dm_channel(int(bob["id"]))
    await fake.wait_for("POST", rf"/channels/{dm_channel}/messages")
    (dm,) = fake.channel_messages(dm_channel)
    assert "guild_id" not in dm
    refs = MessagesRepo(app.engine)

    async def remembered() -> bool:
        return await refs.community_of("discord", str(dm_channel), dm["id"]) == ctx.community.id

    await eventually(remembered)
    answer = await bot.run(fake.press(bob, dm, "sv:1"))
    assert "Votes now: 2" in text_of(answer.message)
    # A DM button fanloop has no record of cannot act anywhere: it says so.
    stray = fake.bot_message(["sv:1"], channel=dm_channel, dm=True)
    answer = await bot.run(fake.press(bob, stray, "sv:1"))
    assert "server" in text_of(answer.message) and is_ephemeral(answer.message)
    assert await votes(app, 1) == 2
