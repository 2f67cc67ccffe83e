"""A suggestion's discussion on Telegram: replies to its card that are not votes are comments;
"+1" replies stay votes; the author hears of comments privately; /show lists the latest."""

from __future__ import annotations

from bot.core.app import App
from cogs.suggestions.discussion import DiscussionService
from cogs.suggestions.service import SuggestionService
from devtools.servers.telegram_api import message_update
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, World, worker

HOSTILE = 'nice <b>idea</b> & <a href="x">link</a> @alice /show 1'


async def votes(app: App, sid: int = 1) -> int:
    return (await app.services.get(SuggestionService).get(1, sid)).votes


async def comments(app: App, sid: int = 1) -> list[str]:
    rows, _ = await app.services.get(DiscussionService).latest(sid)
    return [r.body for r in rows]


async def posted_card(world: World) -> dict:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    return world.last(GROUP)


async def test_a_reply_that_is_not_a_vote_is_a_comment(world: World, app: App) -> None:
    card = await posted_card(world)
    reply = message_update(world.chat, BOB, HOSTILE, reply_to=card)
    for _ in range(2):  # delivered twice: kept once
        await world.feed(reply)
    assert await comments(app) == [HOSTILE]
    assert await votes(app) == 1
    assert world.last(BOB["id"])["text"] == "💬 已在 #1 Dark mode 下发表评论 1。"  # Bob's language

    await world.say(CAROL, "+1", reply_to=card)  # still a vote, not a comment
    assert await votes(app) == 2
    assert await comments(app) == [HOSTILE]

    # The author follows their suggestion's comments: told privately, text escaped.
    await worker(world).run_once()
    told = world.last(ALICE["id"])
    assert told["text"].startswith("💬 New comments on #1 Dark mode (1)")
    assert f"Bob: {HOSTILE}" in told["text"]
    assert "&lt;b&gt;" in world.fake.calls_to("sendMessage")[-1].params["text"]
    # Telegram has no threads: the comment is not posted to the group again.
    assert not any(f"Bob: {HOSTILE}" in t for t in world.texts(GROUP))

    await world.say(CAROL, "/show 1")
    shown = world.last(GROUP)
    assert "Comments (1)" in shown["text"] and f"[1] Bob: {HOSTILE}" in shown["text"]


async def test_comment_command_and_following(world: World, app: App) -> None:
    await posted_card(world)
    await world.say(CAROL, "/follow 1")
    assert "vote for it first" in world.last(CAROL["id"])["text"]
    await world.say(CAROL, "/vote 1")
    await world.say(CAROL, "/follow 1")
    assert world.last(CAROL["id"])["text"].startswith("🔔")
    await world.say(BOB, "/comment 1 " + "字" * 1001)
    assert "1000" in world.last(BOB["id"])["text"]
    await world.say(BOB, "/comment 1 同意，夜间模式很需要")
    assert await comments(app) == ["同意，夜间模式很需要"]
    await worker(world).run_once()
    assert "Bob: 同意，夜间模式很需要" in world.last(CAROL["id"])["text"]
    assert "Bob: 同意，夜间模式很需要" in world.last(ALICE["id"])["text"]
