"""Corrections on Discord: the card a suggestion was posted with follows an edit, an official
response, a delete and a restore (the message edited in place with the bot token), and the new
commands answer in private."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.app import App
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from devtools.servers.discord_api import GUILD_ID, FakeDiscord
from tests.discord.conftest import (
    StartBot,
    assert_mention_safe,
    buttons,
    eventually,
    is_ephemeral,
    suggest,
    text_of,
)


async def reads(fake: FakeDiscord, card: dict[str, Any], *parts: str) -> None:
    async def now() -> bool:
        shown = text_of(fake.messages[card["id"]])
        return all(p in shown for p in parts)

    try:
        await eventually(now)
    except AssertionError:
        raise AssertionError(f"{text_of(fake.messages[card['id']])!r} lacks {parts}") from None


async def test_the_card_follows_edit_response_delete_and_restore(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await start_bot()
    alice = fake.add_member("Alice")
    card = await suggest(bot, alice, "Dark mode", details="Too bright at night")
    answer = await bot.slash(
        alice, "edit", id=1, title="Dark mode everywhere", details="Also the @everyone widgets"
    )
    assert is_ephemeral(answer.message) and "#1 is updated" in text_of(answer.message)
    await reads(fake, card, "#1 Dark mode everywhere", "Also the @everyone widgets", "(edited)")
    assert [b["label"] for b in buttons(fake.messages[card["id"]])] == ["👍 +1 #1 (1)"]

    bob = fake.add_member("Bob")
    refused = await bot.slash(bob, "edit", id=1, details="mine now")
    assert "not your suggestion" in text_of(refused.message)
    assert "needs the admin role" in text_of((await bot.slash(bob, "restore", id=1)).message)

    await bot.slash(fake.owner, "respond", id=1, text="Coming in 2.1")
    await reads(fake, card, "Official response", "Coming in 2.1")
    await bot.slash(fake.owner, "delete", id=1)
    await reads(fake, card, "This suggestion was deleted.")
    assert buttons(fake.messages[card["id"]]) == []
    assert "Dark mode" not in text_of(fake.messages[card["id"]])
    await bot.slash(fake.owner, "restore", id=1)
    await reads(fake, card, "#1 Dark mode everywhere", "Coming in 2.1")
    assert [b["label"] for b in buttons(fake.messages[card["id"]])] == ["👍 +1 #1 (1)"]
    assert all(c.status == 200 for c in fake.edits(card["id"]))
    assert_mention_safe(fake)


async def test_a_card_follows_an_edit_made_by_a_process_that_does_not_serve_discord(
    fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    """Another process on the same database, serving no Discord (Telegram only, say), edits
    the suggestion: it hands the new view to the outbox, and this process's Discord worker
    edits the card."""
    bot = await start_bot()
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode", details="Too bright")
    other = await App.create(app.settings, app.clock, engine=app.engine, migrate=False)
    ctx = await other.context(
        platform="discord",
        space_id=str(GUILD_ID),
        space_name="Fan Club",
        user_id=str(fake.owner["id"]),
        display_name="Owner",
        role=Role.OWNER,
    )
    service = other.services.get(SuggestionService)
    await service.edit(
        ctx.community.id,
        1,
        ctx.member.account_id,
        admin=True,
        window=timedelta(0),
        title="Dark mode everywhere",
    )
    await ctx.subject_changed("sg:1")
    await other.posts.settle()
    await reads(fake, card, "#1 Dark mode everywhere", "(edited)")
    assert [b["label"] for b in buttons(fake.messages[card["id"]])] == ["👍 +1 #1 (1)"]
