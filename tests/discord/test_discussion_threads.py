"""A suggestion's discussion on Discord: a thread started from its card on the first comment,
comments posted into it, and members' messages in it kept as comments."""

from __future__ import annotations

import re
from typing import Any

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from cogs.suggestions.discussion import DiscussionService
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import GUILD_ID, FakeDiscord
from storage.platform.messages import MessagesRepo
from tests.discord.conftest import Bot, StartBot, eventually, is_ephemeral, suggest, text_of


async def community(app: App) -> int:
    cid, _ = await app.identity.community_for_space("discord", str(GUILD_ID), "", app.clock.now())
    return cid


async def comment_count(app: App, sid: int = 1) -> int:
    return (await app.services.get(DiscussionService).latest(sid))[1]


async def votes(app: App, sid: int = 1) -> int:
    return (await app.services.get(SuggestionService).get(await community(app), sid)).votes


def thread_starts(fake: FakeDiscord) -> list[Any]:
    return fake.calls_to("POST", r"/channels/\d+/messages/\d+/threads")


async def content_bot(app: App, start_bot: StartBot) -> Bot:
    app.settings.discord_message_content = True
    return await start_bot()


async def test_the_first_comment_starts_a_thread_and_the_next_ones_go_into_it(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await content_bot(app, start_bot)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    channel, card_id = card["channel_id"], card["id"]
    bob = fake.add_member("Bob")
    answer = await bot.slash(bob, "comment", id=1, text="What about <b>tablets</b> @everyone?")
    assert is_ephemeral(answer.message)
    assert "Comment 1 added to #1 Dark mode" in text_of(answer.message)

    (start,) = await fake.wait_for("POST", rf"/channels/{channel}/messages/{card_id}/threads")
    assert start.json["name"] == "#1 Dark mode"
    (posted,) = await fake.wait_for("POST", rf"/channels/{card_id}/messages")
    assert text_of(posted.json) == "Bob: What about <b>tablets</b> @everyone?"
    assert posted.json["allowed_mentions"]["parse"] == []  # "@everyone" pings no one
    assert posted.json["nonce"].startswith("fl") and posted.json["enforce_nonce"]

    await bot.slash(fake.add_member("Carol"), "comment", id=1, text="Yes please")
    await fake.wait_for("POST", rf"/channels/{card_id}/messages", count=2)
    assert len(thread_starts(fake)) == 1
    assert [text_of(m) for m in fake.thread_posts(card_id)] == [
        "Bob: What about <b>tablets</b> @everyone?",
        "Carol: Yes please",
    ]


async def test_messages_in_the_thread_are_comments_and_plus_one_is_a_vote(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await content_bot(app, start_bot)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    await bot.slash(fake.add_member("Bob"), "comment", id=1, text="first")
    await fake.wait_for("POST", rf"/channels/{card['id']}/messages")
    dave = fake.add_member("Dave")
    said = await fake.thread_message(dave, card["id"], "Would love it on OLED screens")

    async def kept(n: int) -> bool:
        return await comment_count(app) == n

    await eventually(lambda: kept(2))
    await fake.dispatch("MESSAGE_CREATE", said)  # delivered again (a gateway resume)
    await fake.thread_message(dave, card["id"], "+1")

    async def voted() -> bool:
        return await votes(app) == 2

    await eventually(voted)
    # Written in the thread: not posted there again, and not answered (only a refusal is).
    assert len(fake.thread_posts(card["id"])) == 1
    assert await comment_count(app) == 2
    rows, _ = await app.services.get(DiscussionService).latest(1)
    assert [(r.body, r.platform) for r in rows] == [
        ("first", "discord"),
        ("Would love it on OLED screens", "discord"),
    ]

    too_long = "x" * 1001
    await fake.thread_message(dave, card["id"], too_long)
    calls = await fake.wait_for("POST", rf"/channels/{card['id']}/messages", count=2)
    refusal = calls[-1]
    assert "at most 1000 characters" in text_of(refusal.json)
    assert await comment_count(app) == 2


async def test_a_reply_to_the_card_that_is_not_a_vote_is_a_comment_posted_in_the_thread(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await content_bot(app, start_bot)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    bob = fake.add_member("Bob")
    await fake.reply(bob, card, "nice idea, but what about tablets?", mention=False)
    (posted,) = await fake.wait_for("POST", rf"/channels/{card['id']}/messages")
    assert text_of(posted.json) == "Bob: nice idea, but what about tablets?"
    await fake.reply(bob, card, "+1", mention=False)

    async def voted() -> bool:
        return await votes(app) == 2

    await eventually(voted)
    assert await comment_count(app) == 1


async def test_a_thread_started_before_a_lost_answer_is_found_again(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await content_bot(app, start_bot)
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    # As if an earlier delivery started the thread and its process died before recording it.
    fake.start_thread(int(card["channel_id"]), card["id"], {"name": "#1 Dark mode"})
    await bot.slash(fake.add_member("Bob"), "comment", id=1, text="hello")
    (posted,) = await fake.wait_for("POST", rf"/channels/{card['id']}/messages")
    assert text_of(posted.json) == "Bob: hello"
    (refused,) = thread_starts(fake)
    assert refused.status == 400


async def test_only_the_author_or_an_admin_removes_a_comment(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await content_bot(app, start_bot)
    await suggest(bot, fake.add_member("Alice"), "Dark mode")
    bob, carol = fake.add_member("Bob"), fake.add_member("Carol")
    await bot.slash(bob, "comment", id=1, text="spam")
    refused = await bot.slash(carol, "uncomment", comment=1)
    assert is_ephemeral(refused.message) and "not yours" in text_of(refused.message)
    refused = await bot.slash(carol, "hidecomment", comment=1)
    assert is_ephemeral(refused.message) and await comment_count(app) == 1
    hidden = await bot.slash(fake.owner, "hidecomment", comment=1)  # the server's owner
    assert "Comment 1 on #1 is hidden." in text_of(hidden.message)
    assert await comment_count(app) == 0


async def test_comments_written_elsewhere_in_the_community_reach_the_thread(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await content_bot(app, start_bot)
    console = ConsoleAdapter(app)
    await console.handle_line("/as olga owner")
    await console.handle_line('/suggest "Dark mode" "Too bright"')
    (code,) = await console.handle_line("/community code")
    join = re.search(r"code for [^:]+: ([A-Z0-9-]+)", code.reply.plain_text())
    assert join is not None
    await bot.slash(fake.owner, "join", code=join.group(1))
    shown = await bot.slash(fake.add_member("Bob"), "show", id=1)  # the card, on Discord
    card = shown.message

    async def remembered() -> bool:
        refs = MessagesRepo(app.engine)
        return await refs.subject_of("discord", card["channel_id"], card["id"]) == "sg:1"

    await eventually(remembered)
    await console.handle_line("/comment 1 written on the console")
    (start,) = await fake.wait_for("POST", rf"/channels/\d+/messages/{card['id']}/threads")
    assert start.json["name"] == "#1 Dark mode"
    (posted,) = await fake.wait_for("POST", rf"/channels/{card['id']}/messages")
    assert text_of(posted.json) == "olga: written on the console"
