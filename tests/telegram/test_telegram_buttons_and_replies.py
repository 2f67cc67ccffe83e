"""Inline keyboards, callback answers, "+1" replies, and updates Telegram delivers twice."""

from __future__ import annotations

import pytest
from telegram import Update

from bot.core.app import App
from cogs.suggestions.service import SuggestionService
from devtools.servers.telegram_api import callback_update, message_update
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, World


async def votes(app: App, sid: int = 1) -> int:
    return (await app.services.get(SuggestionService).get(1, sid)).votes


async def posted_card(world: World) -> dict:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    return world.last(GROUP)


async def test_press_vote_button_is_answered_as_a_toast(world: World, app: App) -> None:
    card = await posted_card(world)
    qid = await world.press(BOB, card, "sv:1")
    answer = world.answer(qid)
    assert answer["text"] == "👍 已为 #1 Dark mode 投票，现在 2 票。"  # in Bob's language
    assert answer.get("show_alert") is None  # a toast, not an alert
    assert await votes(app) == 2
    qid = await world.press(BOB, card, "sv:1")  # the button toggles
    assert await votes(app) == 1
    assert world.answer(qid)["text"]


async def test_every_callback_is_answered_even_on_errors(world: World) -> None:
    card = await posted_card(world)
    qid = await world.press(BOB, card, "zz:nothing")
    answer = world.answer(qid)
    assert answer["text"] == "这个按钮已失效。"  # Bob's Telegram is in Chinese
    assert answer["show_alert"] == "true"
    qid = await world.press(CAROL, card, "sv:999")
    assert world.answer(qid)["show_alert"] == "true"


async def test_button_with_a_long_answer_sends_a_message(world: World) -> None:
    card = await posted_card(world)
    qid = await world.press(CAROL, card, "ss:1")  # "show": the whole card, ephemeral
    assert world.answer(qid) == {"callback_query_id": qid}
    shown = world.last(CAROL["id"])  # ephemeral: privately to Carol
    assert "#1 Dark mode" in shown["text"]
    assert shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sv:1"


@pytest.mark.parametrize("text", ["+1", "me too", "同求", "我也需要", "+1!!"])
async def test_reply_plus_one_to_the_card_votes(world: World, app: App, text: str) -> None:
    card = await posted_card(world)
    await world.say(BOB, text, reply_to=card)
    assert await votes(app) == 2
    assert world.last(BOB["id"])["text"] == "👍 已为 #1 Dark mode 投票，现在 2 票。"


async def test_other_replies_and_replies_to_others_are_ignored(world: World, app: App) -> None:
    await posted_card(world)
    before = len(world.fake.calls)
    # (A reply to the card that is not a vote is a comment: test_telegram_discussion.py.)
    human = message_update(world.chat, CAROL, "hello")["message"]
    await world.say(BOB, "+1", reply_to=human)
    assert await votes(app) == 1
    assert [c.method for c in world.fake.calls[before:]] == []


async def test_redelivered_update_counts_once(world: World, app: App) -> None:
    card = await posted_card(world)
    press = callback_update(BOB, card, "sv:1")
    reply = message_update(world.chat, CAROL, "+1", reply_to=card)
    for _ in range(3):
        await world.feed(press)
        await world.feed(reply)
    assert await votes(app) == 3  # Alice, Bob and Carol, once each
    assert len(world.fake.calls_to("answerCallbackQuery")) == 1
    # The command that posted the card, delivered again, does not post it again.
    command = message_update(world.chat, ALICE, '/suggest "Second idea"')
    await world.feed(command)
    await world.adapter.process(Update.de_json(command, world.adapter.bot))
    assert sum("Second idea" in t for t in world.texts(GROUP)) == 1


async def test_hostile_text_is_escaped(world: World) -> None:
    hostile = '<b>bold</b> & <a href="x">link</a> </i> &amp; <script>'
    await world.say(ALICE, f"/suggest '{hostile}' '<i>details</i> & more'")
    card = world.last(GROUP)  # the fake parses HTML like Telegram: a bad tag would be a 400
    assert hostile in card["text"]
    assert "<i>details</i> & more" in card["text"]
    bold = [e for e in card.get("entities", []) if e["type"] == "bold"]
    assert bold and all(
        card["text"][e["offset"] : e["offset"] + e["length"]] != "bold" for e in bold
    )
    send = world.fake.calls_to("sendMessage")[-1]
    assert "&lt;script&gt;" in send.params["text"]


async def test_ephemeral_reply_in_group_when_private_chat_is_closed(world: World) -> None:
    world.fake.unreachable.add(CAROL["id"])
    asked = await world.say(CAROL, "/mine")
    reply = world.last(GROUP)
    assert reply["text"] == "You have not suggested anything yet."
    send = world.fake.calls_to("sendMessage")[-1]
    assert send.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    link = reply["reply_markup"]["inline_keyboard"][-1][0]
    assert link["url"] == f"https://t.me/fanloop_bot?start=g{GROUP}"
    # Once Carol writes to the bot privately, private replies work again.
    world.fake.unreachable.discard(CAROL["id"])
    await world.dm(CAROL, f"/start g{GROUP}")
    await world.say(CAROL, "/mine")
    assert len(world.fake.sent(GROUP)) == 1
