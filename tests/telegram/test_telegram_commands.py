"""Commands in groups and private chats, with and without @botname, from the one registry."""

from __future__ import annotations

from cogs.suggestions.service import SuggestionService
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, World


async def test_command_in_group_posts_public_card_with_vote_button(world: World) -> None:
    asked = await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    assert card["text"].startswith("💡 New suggestion\n#1 Dark mode")
    assert "#1 Dark mode" in card["text"]
    assert "Too bright at night" in card["text"]
    button = card["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == "sv:1"
    # The card replies to the command that asked for it.
    (send,) = world.fake.calls_to("sendMessage")
    assert send.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert send.params["parse_mode"] == "HTML"


async def test_botname_suffix_and_other_bots(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode"')
    await world.say(BOB, "/top@fanloop_bot")
    await world.say(CAROL, "/top@some_other_bot")
    await world.say(CAROL, "/weather")  # another bot's command in a shared group: not ours
    texts = world.texts(GROUP)
    assert len(texts) == 2
    assert "#1 Dark mode" in texts[1]


async def test_unknown_command_addressed_to_us_is_explained(world: World) -> None:
    await world.say(ALICE, "/frobnicate@fanloop_bot now")
    # An error is ephemeral: Alice gets it privately.
    assert "There is no command “frobnicate”" in world.last(ALICE["id"])["text"]
    assert world.fake.sent(GROUP) == []


async def test_argument_errors_are_clear(world: World) -> None:
    await world.say(ALICE, "/vote abc")
    assert world.last(ALICE["id"])["text"] == "id must be a whole number, not “abc”."
    await world.say(ALICE, '/suggest "ab"')
    assert "title is too short" in world.last(ALICE["id"])["text"]


async def test_private_chat_speaks_for_the_home_group(world: World, app) -> None:
    await world.dm(CAROL, "/mine")
    assert "Use any command in that group first" in world.last(CAROL["id"])["text"]
    await world.say(CAROL, '/suggest "Offline maps"')
    await world.dm(CAROL, "/mine")
    assert "#1 Offline maps" in world.last(CAROL["id"])["text"]
    # The private chat did not become a community of its own.
    svc = app.services.get(SuggestionService)
    assert svc is not None
    spaces = [s.space_id for s in await app.identity.spaces_of(1)]
    assert spaces == [str(GROUP)]


async def test_start_deep_link_sets_home_and_shows_help(world: World) -> None:
    await world.dm(BOB, f"/start g{GROUP}")
    text = world.last(BOB["id"])["text"]
    assert text.startswith("这个私聊对应的社区是：Fans of Orange")  # Bob's Telegram is Chinese
    assert "/suggest" in text


async def test_locale_follows_telegram_language(world: World) -> None:
    await world.say(BOB, "/vote abc")
    assert world.last(BOB["id"])["text"] == "编号（id） 必须是整数，而不是“abc”。"


async def test_bare_start_in_a_group_is_left_to_other_bots(world: World) -> None:
    await world.say(ALICE, "/start")
    assert world.fake.sent(GROUP) == [] and world.fake.sent(ALICE["id"]) == []
    await world.say(ALICE, "/start@fanloop_bot")
    assert "/suggest" in world.last(ALICE["id"])["text"]  # help is for Alice alone
