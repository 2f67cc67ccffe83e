"""The vote count on a suggestion's button follows the votes: after each vote and un-vote the
message's keyboard is edited, in the language it was shown in, and a burst makes few edits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.adapters.telegram.edits import KeyboardEdits
from bot.adapters.telegram.throttle import SendThrottle
from bot.core.app import App
from bot.core.reply import Button, Reply
from cogs.suggestions.service import SuggestionService
from devtools.servers.telegram_api import callback_update, user
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, World


async def votes(app: App, sid: int = 1) -> int:
    return (await app.services.get(SuggestionService).get(1, sid)).votes


def labels(world: World, message: dict[str, Any]) -> list[str]:
    """The labels of a message's buttons as Telegram shows them now."""
    stored = world.fake.messages[(message["chat"]["id"], message["message_id"])]
    rows = (stored.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


async def press(world: World, who: dict[str, Any], message: dict[str, Any]) -> None:
    await world.press(who, message, "sv:1")
    await world.adapter.edits.settle()


async def test_vote_and_unvote_edit_the_count_on_the_button(world: World, app: App) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    assert labels(world, card) == ["👍 +1 #1 (1)"]  # Alice's own vote
    await press(world, BOB, card)
    # In the card's language, although Bob's Telegram is in Chinese.
    assert labels(world, card) == ["👍 +1 #1 (2)"]
    await press(world, CAROL, card)
    assert labels(world, card) == ["👍 +1 #1 (3)"]
    await press(world, CAROL, card)  # the button toggles: Carol takes her vote back
    assert labels(world, card) == ["👍 +1 #1 (2)"]
    await press(world, BOB, card)
    assert labels(world, card) == ["👍 +1 #1 (1)"]
    assert await votes(app) == 1
    edits = world.fake.edits(GROUP, card["message_id"])
    assert [c.method for c in edits] == ["editMessageReplyMarkup"] * 4
    # The text and the rest of the message are left as they were.
    assert "#1 Dark mode" in world.fake.messages[(GROUP, card["message_id"])]["text"]


async def test_label_keeps_the_language_of_the_message(world: World) -> None:
    await world.say(BOB, '/suggest "深色模式" "晚上太亮了"')
    card = world.last(GROUP)
    assert labels(world, card) == ["👍 +1 #1（1）"]
    await press(world, ALICE, card)
    assert labels(world, card) == ["👍 +1 #1（2）"]


async def test_plus_one_reply_edits_the_card_once_per_change(world: World, app: App) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    await world.say(BOB, "+1", reply_to=card)
    await world.adapter.edits.settle()
    assert labels(world, card) == ["👍 +1 #1 (2)"]
    await world.say(BOB, "同求", reply_to=card)  # already counted: nothing to change
    await world.adapter.edits.settle()
    assert await votes(app) == 2
    assert len(world.fake.edits(GROUP, card["message_id"])) == 1


async def test_a_list_updates_only_the_button_voted_for(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    await world.say(CAROL, '/suggest "Offline maps" "For the subway"')
    await world.say(CAROL, "/new")
    listing = world.last(GROUP)
    before = labels(world, listing)
    assert sorted(before) == ["👍 +1 #1 (1)", "👍 +1 #2 (1)"]
    await world.press(BOB, listing, "sv:2")
    await world.adapter.edits.settle()
    assert labels(world, listing) == [label.replace("#2 (1)", "#2 (2)") for label in before]


async def test_buttons_that_show_no_count_are_not_edited(world: World, app: App) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    await world.say(BOB, "/help")  # Bob's private chat now speaks for the group
    # Like the private hint that a new suggestion may be a duplicate ("+1 this one instead").
    hint = Reply(text="Is it this one?", buttons=[Button("👍 +1 #1 instead", "sv:1")])
    (sent,) = await world.adapter.sender.send(BOB["id"], hint, 1)
    message = world.fake.messages[(BOB["id"], sent.message_id)]
    await world.press(BOB, message, "sv:1")
    await world.adapter.edits.settle()
    assert await votes(app) == 2
    assert world.fake.edits(BOB["id"], sent.message_id) == []
    assert labels(world, message) == ["👍 +1 #1 instead"]


async def test_edit_waits_out_flood_control(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    world.fake.flood("editMessageReplyMarkup", retry_after=3)
    await press(world, BOB, card)
    assert labels(world, card) == ["👍 +1 #1 (2)"]
    assert len(world.fake.edits(GROUP, card["message_id"])) == 2  # refused once, then made
    assert 3 in world.time.slept


class Watched:
    """The bot, as far as edits go, counting the edits on their way at once."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.in_flight = 0
        self.most = 0

    async def edit_message_reply_markup(self, *args: Any, **kwargs: Any) -> Any:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.05)  # a round trip to Telegram takes a while
            return await self.bot.edit_message_reply_markup(*args, **kwargs)
        finally:
            self.in_flight -= 1


async def test_a_burst_of_votes_ends_with_the_right_count(world: World, app: App) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    # Real time here: edits of one message at least 0.2 s apart, Telegram's limits kept.
    edits = KeyboardEdits(world.adapter.bot, SendThrottle(), min_interval=0.2)
    watched = Watched(world.adapter.bot)
    edits.bot = watched  # type: ignore[assignment]
    world.adapter.edits = edits
    fans = [user(600 + i, f"Fan {i}") for i in range(40)]
    gate = asyncio.Semaphore(8)  # presses handled 8 at a time, as the adapter would

    async def one(fan: dict[str, Any]) -> None:
        async with gate:
            await world.feed(callback_update(fan, card, "sv:1"))

    await asyncio.gather(*(one(fan) for fan in fans))
    await edits.settle()
    assert await votes(app) == 41
    assert labels(world, card) == ["👍 +1 #1 (41)"]
    assert watched.most == 1  # one edit of the message on its way at a time
    made = len(world.fake.edits(GROUP, card["message_id"]))
    assert 1 <= made <= len(fans) // 4, made  # coalesced: far fewer edits than votes
    # A vote after the burst is shown too.
    await world.press(BOB, card, "sv:1")
    await edits.settle()
    assert labels(world, card) == ["👍 +1 #1 (42)"]


async def test_the_fake_refuses_an_edit_that_changes_nothing(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    same = InlineKeyboardMarkup([[InlineKeyboardButton("👍 +1 #1 (1)", callback_data="sv:1")]])
    with pytest.raises(BadRequest, match="not modified"):
        await world.adapter.bot.edit_message_reply_markup(
            GROUP, card["message_id"], reply_markup=same
        )
