"""A "+1" reply to the bot's message about a suggestion is a vote, counted once."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord import Tuning
from bot.core.app import App
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import GUILD_ID, FakeDiscord
from tests.discord.conftest import Bot, StartBot, eventually, suggest, text_of


async def votes(app: App, sid: int = 1) -> int:
    cid, _ = await app.identity.community_for_space("discord", str(GUILD_ID), "", app.clock.now())
    return (await app.services.get(SuggestionService).get(cid, sid)).votes


async def card(bot: Bot, fake: FakeDiscord, title: str = "Dark mode") -> dict[str, Any]:
    return await suggest(bot, fake.add_member("Alice"), title)


async def test_plus_one_reply_votes_once(fake: FakeDiscord, app: App, start_bot: StartBot) -> None:
    bot = await start_bot(Tuning(reply_ttl=0.2, guild_ready_timeout=0.05))
    message = await card(bot, fake)
    channel = int(message["channel_id"])
    bob = fake.add_member("Bob")
    sent = await fake.reply(bob, message, "同求")
    (answer,) = await fake.wait_for("POST", rf"/channels/{channel}/messages")
    assert await votes(app) == 2
    assert str(answer.json["message_reference"]["message_id"]) == sent["id"]
    assert answer.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert "Votes now: 2" in text_of(answer.json)
    # A private answer to a plain message cannot be ephemeral: it goes away by itself.
    shown = fake.channel_messages(channel)[-1]
    await fake.wait_for("DELETE", rf"/channels/{channel}/messages/{shown['id']}")
    # The same event delivered again (a gateway resume) is not a second vote.
    await fake.dispatch("MESSAGE_CREATE", sent)
    await fake.reply(fake.add_member("Carol"), message, "+1")
    await fake.wait_for("POST", rf"/channels/{channel}/messages", count=2)
    assert await votes(app) == 3
    assert len(fake.calls_to("POST", rf"/channels/{channel}/messages")) == 2


async def test_other_replies_are_not_votes(bot: Bot, fake: FakeDiscord, app: App) -> None:
    first = await card(bot, fake)
    bob, someone = fake.add_member("Bob"), fake.add_member("Someone")
    # A reply to the card that is not a vote is a comment (test_discussion_threads.py),
    # answered in the card's channel; a reply to that member's message is not the bot's.
    human = await fake.reply(someone, first, "looks good")
    await fake.reply(bob, human, "+1")
    await fake.reply(bob, fake.bot_message(["sv:1"]), "+1")  # the bot's, but about nothing known
    await fake.reply(bob, first, "+1", mention=False)  # no text without the content intent
    marker = await card(bot, fake, "Offline maps")
    await fake.reply(bob, marker, "+1")
    answers = rf"/channels/{first['channel_id']}/messages"
    await fake.wait_for("POST", answers, count=2)
    # Events are handled in order: by the marker's answer, all the others were ignored.
    assert (await votes(app, 1), await votes(app, 2)) == (1, 2)
    assert len(fake.calls_to("POST", answers)) == 2


async def test_replies_need_no_mention_with_the_message_content_intent(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    app.settings.discord_message_content = True
    bot = await start_bot()
    message = await card(bot, fake)
    await fake.reply(fake.add_member("Bob"), message, "me too", mention=False)

    async def counted() -> bool:
        return await votes(app) == 2

    await eventually(counted)
