"""The vote count on a suggestion's button follows the votes: after each vote and un-vote (a
press, or a "+1" reply) the message's buttons are edited, and a burst makes few edits."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from bot.core.app import App
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import GUILD_ID, FakeDiscord
from tests.discord.conftest import FAST, Bot, StartBot, eventually, suggest, text_of

QUICK = replace(FAST, edit_interval=0.2)


async def votes(app: App, sid: int = 1) -> int:
    cid, _ = await app.identity.community_for_space("discord", str(GUILD_ID), "", app.clock.now())
    return (await app.services.get(SuggestionService).get(cid, sid)).votes


async def shows(fake: FakeDiscord, message: dict[str, Any], *labels: str) -> None:
    """Wait until the message's buttons read `labels` (edits follow the answers)."""

    async def now() -> bool:
        return fake.labels(message["id"]) == list(labels)

    try:
        await eventually(now)
    except AssertionError:
        raise AssertionError(f"{fake.labels(message['id'])} != {list(labels)}") from None


async def settled(fake: FakeDiscord, message: dict[str, Any], quiet: float = 0.6) -> int:
    """How many edits of the message were asked for, once none came for `quiet` seconds."""
    seen = -1
    while (count := len(fake.edits(message["id"]))) != seen:
        seen = count
        await asyncio.sleep(quiet)
    return seen


async def test_votes_and_unvotes_edit_the_count_on_the_button(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await start_bot(QUICK)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    assert fake.labels(card["id"]) == ["👍 +1 #1 (1)"]  # Alice's own vote
    bob, carol = fake.add_member("Bob"), fake.add_member("Carol")
    answer = await bot.run(fake.press(bob, card, "sv:1"))
    assert "Votes now: 2" in text_of(answer.message)  # the press is answered as before
    await shows(fake, card, "👍 +1 #1 (2)")
    await bot.run(fake.press(carol, card, "sv:1"))
    await shows(fake, card, "👍 +1 #1 (3)")
    await bot.run(fake.press(carol, card, "sv:1"))  # the button toggles: Carol takes it back
    await shows(fake, card, "👍 +1 #1 (2)")
    await bot.run(fake.press(bob, card, "sv:1"))
    await shows(fake, card, "👍 +1 #1 (1)")
    assert await votes(app) == 1
    edits = fake.edits(card["id"])
    assert [c.status for c in edits] == [200] * 4
    assert all(set(c.json) == {"components"} for c in edits)  # the buttons alone
    assert "Dark mode" in text_of(fake.messages[card["id"]])  # the embed is left as it was


async def test_plus_one_reply_edits_the_card_once_per_change(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await start_bot(QUICK)
    card = await suggest(bot, fake.add_member("Alice"), "Offline maps")
    bob = fake.add_member("Bob")
    await fake.reply(bob, card, "+1")
    await shows(fake, card, "👍 +1 #1 (2)")
    await fake.reply(bob, card, "同求")  # already counted: nothing to change
    await fake.wait_for("POST", r"/channels/\d+/messages", count=2)
    assert await settled(fake, card) == 1
    assert await votes(app) == 2


async def test_a_burst_of_votes_ends_with_the_right_count_in_few_edits(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await start_bot(QUICK)
    card = await suggest(bot, fake.add_member("Alice"), "Battery saver")
    fans = [fake.add_member(f"Fan {i}") for i in range(40)]
    sent = [await fake.send(fake.press(fan, card, "sv:1")) for fan in fans]
    await asyncio.gather(*(record.wait() for record in sent))
    assert all(not record.late for record in sent)
    await shows(fake, card, "👍 +1 #1 (41)")
    made = await settled(fake, card)
    assert 1 <= made <= len(fans) // 4, made  # coalesced: far fewer edits than votes
    assert await votes(app) == 41
    # A vote after the burst is shown too.
    await bot.run(fake.press(fake.add_member("Late"), card, "sv:1"))
    await shows(fake, card, "👍 +1 #1 (42)")


async def test_an_edit_answered_429_is_made_again(fake: FakeDiscord, start_bot: StartBot) -> None:
    bot = await start_bot(QUICK)
    card = await suggest(bot, fake.add_member("Alice"), "Widgets")
    fake.fail("PATCH", r"/channels/\d+/messages/\d+", 429, retry_after=0.3)
    await bot.run(fake.press(fake.add_member("Bob"), card, "sv:1"))
    await shows(fake, card, "👍 +1 #1 (2)")
    assert [c.status for c in fake.edits(card["id"])] == [429, 200]


async def test_buttons_that_show_no_count_and_private_messages_are_not_edited(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    await suggest(bot, fake.add_member("Alice"), "Night theme")
    bob = fake.add_member("Bob")
    # Like the private hint that a new suggestion may be a duplicate ("+1 this one instead").
    hint = fake.bot_message(["sv:1"], labels=["👍 +1 #1 instead"])
    await bot.run(fake.press(bob, hint, "sv:1"))
    private = fake.bot_message(["sv:1"], labels=["👍 +1 #1 (2)"])
    private["flags"] = 64  # ephemeral: the channel route cannot reach it
    await bot.run(fake.press(fake.add_member("Carol"), private, "sv:1"))
    assert await votes(app) == 3
    await asyncio.sleep(0.3)
    assert fake.edits(hint["id"]) == [] and fake.edits(private["id"]) == []


async def test_a_deleted_card_is_left_alone(fake: FakeDiscord, start_bot: StartBot) -> None:
    bot = await start_bot(QUICK)
    card = await suggest(bot, fake.add_member("Alice"), "Tablets")
    fake.deleted.add(card["id"])
    answer = await bot.run(fake.press(fake.add_member("Bob"), card, "sv:1"))
    assert "Votes now: 2" in text_of(answer.message)
    await fake.wait_for("PATCH", rf"/channels/\d+/messages/{card['id']}")
    assert [c.status for c in fake.edits(card["id"])] == [404]
    # The adapter goes on as before.
    other = await suggest(bot, fake.add_member("Dan"), "Widgets")
    await bot.run(fake.press(fake.add_member("Eve"), other, "sv:2"))
    await shows(fake, other, "👍 +1 #2 (2)")
