"""Corrections on Telegram: the card posted in the group follows an edit, an official response,
a delete and a restore (`editMessageText`), and an anonymous card names nobody."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.app import App
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from tests.telegram.world import ADMIN, ALICE, BOB, GROUP, OWNER, World, worker

ZERO = timedelta(0)


def shown(world: World, message: dict[str, Any]) -> dict[str, Any]:
    return world.fake.messages[(message["chat"]["id"], message["message_id"])]


def buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


async def test_the_card_follows_edit_response_delete_and_restore(world: World, app: App) -> None:
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    await world.say(ALICE, '/edit 1 "Dark mode everywhere" | Also the widgets')
    await app.posts.settle()
    now = shown(world, card)
    assert "#1 Dark mode everywhere" in now["text"] and "\nAlso the widgets" in now["text"]
    assert "(edited)" in now["text"] and buttons(now) == ["👍 +1 #1 (1)"]
    told = [c.params["text"] for c in world.fake.calls_to("sendMessage")]
    assert any("✏️ #1 is updated." in t for t in told)  # told in private
    assert [c.method for c in world.fake.edits(GROUP, card["message_id"])] == ["editMessageText"]

    await world.say(BOB, "/edit 1 | 我的")  # not his
    assert "不是你的需求" in world.last(BOB["id"])["text"]

    await world.say(ADMIN, "/respond 1 Coming in <b>2.1</b>")
    await app.posts.settle()
    now = shown(world, card)
    assert "Official response: Coming in <b>2.1</b>" in now["text"]  # user text stays text

    await world.say(ADMIN, "/delete 1")
    await app.posts.settle()
    now = shown(world, card)
    assert "This suggestion was deleted." in now["text"] and buttons(now) == []
    assert "Dark mode" not in now["text"]

    await world.say(ADMIN, "/restore 1")
    await app.posts.settle()
    assert "#1 Dark mode everywhere" in shown(world, card)["text"]
    assert buttons(shown(world, card)) == ["👍 +1 #1 (1)"]


async def test_an_anonymous_card_names_nobody(world: World, app: App) -> None:
    await world.say(OWNER, "/settings anonymous_suggestions on")
    await world.say(ALICE, '/suggest "Secret wish" "Please"')
    card = world.last(GROUP)
    assert "Alice" not in card["text"] and "#1 Secret wish" in card["text"]
    await world.say(ADMIN, "/show 1")
    private = world.last(ADMIN["id"])["text"]
    assert "Posted anonymously by (only admins see this): Alice" in private
    assert "Alice" not in world.last(GROUP)["text"]


async def test_a_card_follows_edits_made_by_a_process_that_does_not_serve_telegram(
    world: World, app: App
) -> None:
    """Another process on the same database, serving no Telegram (Discord only, say), edits
    the suggestion twice before this process's worker runs: the worker shows the newest view
    once (the older one is superseded), by one edit of the card."""
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    card = world.last(GROUP)
    other = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)
    ctx = await other.context(
        platform="telegram",
        space_id=str(GROUP),
        space_name="Fans of Orange",
        user_id=str(ADMIN["id"]),
        display_name="Admin",
        role=Role.ADMIN,
    )
    service = other.services.get(SuggestionService)
    for title in ("Dark mode everywhere", "Dark mode in every app"):
        await service.edit(
            ctx.community.id, 1, ctx.member.account_id, admin=True, window=ZERO, title=title
        )
        await ctx.subject_changed("sg:1")
        await other.posts.settle()
    assert world.fake.edits(GROUP, card["message_id"]) == []  # not served there: not edited
    await worker(world).run_once()
    now = shown(world, card)
    assert "#1 Dark mode in every app" in now["text"] and buttons(now) == ["👍 +1 #1 (1)"]
    assert len(world.fake.edits(GROUP, card["message_id"])) == 1
