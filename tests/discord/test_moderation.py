"""Moderation on Discord: the review queue's buttons and reason menu, /mute with a member
option, and a muted member's vote refused."""

from __future__ import annotations

from typing import Any

from bot.core.app import App
from devtools.servers.discord_api import MANAGE_GUILD, FakeDiscord
from tests.discord.conftest import Bot, buttons, eventually, is_ephemeral, suggest, text_of


def ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for c in buttons(message)]


async def test_review_queue_buttons_on_discord(bot: Bot, fake: FakeDiscord, app: App) -> None:
    fake.guild.add_role("Managers", MANAGE_GUILD)
    manager = fake.add_member("Manager", "Managers")
    await bot.slash(fake.owner, "settings", key="review_queue", value="on")
    alice = fake.add_member("Alice")
    opened = await bot.slash(alice, "suggest")
    held = await bot.run(fake.submit(alice, opened.modal or {}, {"title": "Dark mode"}))
    assert is_ephemeral(held.message) and "waits for an admin's review" in text_of(held.message)
    opened = await bot.slash(alice, "suggest")
    await bot.run(fake.submit(alice, opened.modal or {}, {"title": "Buy followers"}))

    queue = (await bot.slash(manager, "review")).message
    assert is_ephemeral(queue) and "Review queue: 2 waiting" in text_of(queue)
    assert ids(queue) == ["rv:a:1", "rr:1", "rv:a:2", "rr:2"]
    answer = await bot.run(fake.press(manager, queue, "rv:a:1"))
    assert "posted as #1 Dark mode" in text_of(answer.message)

    async def posted() -> bool:
        return any(
            "#1 Dark mode" in text_of(m) and ids(m) == ["sv:1"]
            for m in fake.channel_messages(int(queue["channel_id"]))
        )

    await eventually(posted)

    menu = (await bot.run(fake.press(manager, queue, "rr:2"))).message
    (select,) = [c for c in buttons(menu) if c["type"] == 3]
    assert [o["value"] for o in select["options"]][:2] == ["rv:x:2:spam", "rv:x:2:offtopic"]
    answer = await bot.run(fake.press(manager, menu, select["custom_id"], values=["rv:x:2:spam"]))
    assert "spam or advertising" in text_of(answer.message)

    refused = await bot.run(fake.press(alice, queue, "rv:a:2"))
    assert text_of(refused.message) == "This needs the admin role."


async def test_mute_with_a_member_option(bot: Bot, fake: FakeDiscord) -> None:
    fake.guild.add_role("Managers", MANAGE_GUILD)
    manager = fake.add_member("Manager", "Managers")
    card = await suggest(bot, fake.add_member("Alice"), "Offline maps")
    bob = fake.add_member("Bob")
    muted = await bot.slash(manager, "mute", member=bob, duration="3h", reason="spam links")
    assert "Bob is muted until" in text_of(muted.message)
    answer = await bot.run(fake.press(bob, card, "sv:1"))
    assert is_ephemeral(answer.message)
    assert "You are muted here" in text_of(answer.message) and "spam links" in text_of(
        answer.message
    )
    await bot.slash(manager, "unmute", member=bob)
    answer = await bot.run(fake.press(bob, card, "sv:1"))
    assert "Votes now: 2" in text_of(answer.message)
