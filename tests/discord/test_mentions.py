"""User text never pings anyone, on every path a message takes."""

from __future__ import annotations

import asyncio

from bot.adapters.discord import Tuning
from bot.core.app import App
from bot.core.commands import CommandSpec, Param, Role
from bot.core.context import Context
from bot.core.reply import Reply
from devtools.servers.discord_api import GUILD_ID, FakeDiscord
from tests.discord.conftest import (
    StartBot,
    assert_mention_safe,
    buttons,
    eventually,
    suggest,
    text_of,
)

PINGS = "@everyone @here <@1100000000000000999> <@&1100000000000000998>"


async def test_no_message_can_ping(app: App, fake: FakeDiscord, start_bot: StartBot) -> None:
    release = asyncio.Event()

    async def slow_echo(ctx: Context, text: str) -> Reply:
        await release.wait()
        return Reply(text=text)

    app.commands.add(
        CommandSpec("slowecho", "help.help", slow_echo, (Param("text", help_key="param.search"),))
    )
    bot = await start_bot(Tuning(ack_budget=0.05, guild_ready_timeout=0.05))
    alice = fake.add_member("Alice")
    # A suggestion whose title and details try to ping everyone: the card shows them as text.
    card = await suggest(bot, alice, f"Ping {PINGS}", details=PINGS)
    assert PINGS in text_of(card)
    # A deferred public reply (follow-up), a button press, a "+1" reply, an announcement, a DM.
    pending = await fake.send(fake.slash(alice, "slowecho", text=PINGS))
    await asyncio.sleep(0.2)
    release.set()
    await pending.wait()
    assert pending.deferred and PINGS in text_of(pending.message)
    await bot.run(fake.press(fake.add_member("Bob"), card, buttons(card)[0]["custom_id"]))
    await fake.reply(fake.add_member("Carol"), card, "+1")
    await fake.wait_for("POST", r"/channels/\d+/messages")
    cid, _ = await app.identity.community_for_space("discord", str(GUILD_ID), "", app.clock.now())
    await app.outbox.announce(cid, lambda loc: Reply(text=f"Shipped: {PINGS}"))
    ctx = await app.context(
        platform="discord",
        space_id=str(GUILD_ID),
        space_name="Fan Club",
        user_id=alice["id"],
        display_name="Alice",
        role=Role.FAN,
    )
    await app.outbox.notify(cid, [ctx.member.account_id], lambda loc: Reply(text=PINGS))
    await fake.wait_for("POST", r"/channels/\d+/messages", count=3)

    async def all_sent() -> bool:
        return sum(PINGS in text_of(m) for m in fake.messages.values()) >= 5

    await eventually(all_sent)
    assert assert_mention_safe(fake) >= 6
