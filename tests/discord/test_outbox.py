"""Outbox delivery on Discord: the community's channel, DMs, roles; rate limits and failures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context
from bot.core.reply import Button, Reply
from devtools.servers.discord_api import GENERAL_ID, GUILD_ID, NEWS_ID, FakeDiscord
from storage.core.schema import outbox
from storage.platform.messages import MessagesRepo
from tests.discord.conftest import Bot, buttons, eventually, text_of


async def member(app: App, user: dict[str, str]) -> Context:
    return await app.context(
        platform="discord",
        space_id=str(GUILD_ID),
        space_name="Fan Club",
        user_id=user["id"],
        display_name=user["global_name"],
        role=Role.FAN,
    )


async def rows(app: App) -> list[dict[str, object]]:
    async with app.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(outbox).order_by(outbox.c.id))]


async def settled(app: App) -> bool:
    return all(r["delivered_at"] or r["failed_at"] for r in await rows(app))


async def test_announcement_goes_to_the_system_channel_then_the_configured_one(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    ctx = await member(app, fake.owner)
    card = Reply(
        title="#1 Dark mode", text="shipped", buttons=[Button("+1", "sv:1")], subject="sg:1"
    )
    await app.outbox.announce(ctx.community.id, lambda loc: card)
    await fake.wait_for("POST", rf"/channels/{GENERAL_ID}/messages")
    (posted,) = fake.channel_messages(GENERAL_ID)
    assert text_of(posted) == "#1 Dark mode\nshipped" and buttons(posted)[0]["custom_id"] == "sv:1"
    refs = MessagesRepo(app.engine)

    async def remembered() -> bool:
        return await refs.subject_of("discord", str(GENERAL_ID), posted["id"]) == "sg:1"

    await eventually(remembered)
    # The owner picks the news channel the way Discord's client types it: a channel mention.
    await bot.slash(fake.owner, "settings", key="announce_channel", value=f"<#{NEWS_ID}>")
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="weekly report"))
    await fake.wait_for("POST", rf"/channels/{NEWS_ID}/messages")
    assert [text_of(m) for m in fake.channel_messages(NEWS_ID)] == ["weekly report"]
    await eventually(lambda: settled(app))
    assert all(r["delivered_at"] for r in await rows(app))


async def test_dm_to_members_who_accept_them(bot: Bot, fake: FakeDiscord, app: App) -> None:
    alice, bob = fake.add_member("Alice"), fake.add_member("Bob")
    fake.blocked_dms.add(int(bob["id"]))
    a, b = await member(app, alice), await member(app, bob)
    await app.outbox.notify(
        a.community.id,
        [a.member.account_id, b.member.account_id],
        lambda loc: Reply(text="#1 is planned"),
    )
    await eventually(lambda: settled(app))
    (alice_dm,) = fake.channel_messages(fake.dm_channel(int(alice["id"])))
    assert text_of(alice_dm) == "#1 is planned"
    assert fake.channel_messages(fake.dm_channel(int(bob["id"]))) == []
    by_target = {r["target"]: r for r in await rows(app)}
    assert by_target[alice["id"]]["delivered_at"] is not None
    # Bob closed his DMs: a permanent failure, kept with its reason, never retried.
    assert by_target[bob["id"]]["failed_at"] is not None
    assert "does not accept DMs" in str(by_target[bob["id"]]["last_error"])


async def test_roles_are_granted_and_revoked_by_name(bot: Bot, fake: FakeDiscord, app: App) -> None:
    testers = fake.guild.add_role("Beta testers")
    alice = fake.add_member("Alice")
    ctx = await member(app, alice)
    await app.outbox.role_change(ctx.community.id, ctx.member.account_id, "beta testers", True)
    await eventually(lambda: settled(app))
    assert testers in fake.guild.members[int(alice["id"])]
    await app.outbox.role_change(ctx.community.id, ctx.member.account_id, "Beta testers", False)
    await eventually(lambda: settled(app))
    assert testers not in fake.guild.members[int(alice["id"])]
    # A role the server does not have is never created: the change fails for good.
    await app.outbox.role_change(ctx.community.id, ctx.member.account_id, "VIP", True)
    await eventually(lambda: settled(app))
    last = (await rows(app))[-1]
    assert last["failed_at"] is not None and "no role named 'VIP'" in str(last["last_error"])
    assert all(r["name"] != "VIP" for r in fake.guild.roles.values())


async def test_rate_limits_are_respected(bot: Bot, fake: FakeDiscord, app: App) -> None:
    ctx = await member(app, fake.owner)
    # A short limit: discord.py waits it out and the message goes through.
    fake.fail("POST", rf"/channels/{GENERAL_ID}/messages", 429, retry_after=0.2)
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="first"))
    await eventually(lambda: settled(app))
    assert [text_of(m) for m in fake.channel_messages(GENERAL_ID)] == ["first"]
    assert [c.status for c in fake.calls_to("POST", rf"/channels/{GENERAL_ID}/messages")] == [
        429,
        200,
    ]
    # A long one: the message waits in the outbox for Discord's retry_after, then is sent.
    fake.fail("POST", rf"/channels/{GENERAL_ID}/messages", 429, retry_after=120)
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="second"))
    await fake.wait_for("POST", rf"/channels/{GENERAL_ID}/messages", count=3)

    async def waiting() -> bool:
        row = (await rows(app))[-1]
        return row["attempts"] == 1 and row["delivered_at"] is None

    await eventually(waiting)
    row = (await rows(app))[-1]
    assert row["next_attempt_at"] == app.clock.now() + timedelta(seconds=120)
    app.clock.advance(timedelta(seconds=121))  # type: ignore[attr-defined]
    app.outbox.wake.set()
    await eventually(lambda: settled(app))
    assert [text_of(m) for m in fake.channel_messages(GENERAL_ID)] == ["first", "second"]


async def test_server_errors_are_retried_with_back_off(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    ctx = await member(app, fake.owner)
    fake.fail(
        "POST", rf"/channels/{GENERAL_ID}/messages", 403, code=50001, message="Missing Access"
    )
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="hello"))

    async def failed_once() -> bool:
        return (await rows(app))[-1]["attempts"] == 1

    await eventually(failed_once)
    row = (await rows(app))[-1]
    assert row["failed_at"] is None and row["delivered_at"] is None  # not lost: retried later
    app.clock.advance(timedelta(seconds=3))  # type: ignore[attr-defined]
    app.outbox.wake.set()
    await eventually(lambda: settled(app))
    assert [text_of(m) for m in fake.channel_messages(GENERAL_ID)] == ["hello"]
