"""A notification delivered twice (the process died after Discord created the message and
before the outbox recorded it) makes one message: the outbox row's nonce, enforced."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.core.app import App
from bot.core.commands import Role
from bot.core.reply import Reply
from devtools.servers.discord_api import GENERAL_ID, GUILD_ID, FakeDiscord
from storage.core.schema import outbox
from tests.discord.conftest import Bot, eventually, text_of


async def test_a_delivery_repeated_makes_no_second_message(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    ctx = await app.context(
        platform="discord",
        space_id=str(GUILD_ID),
        space_name="Fan Club",
        user_id=fake.owner["id"],
        display_name="Owner",
        role=Role.OWNER,
    )
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="the draw is out"))
    await fake.wait_for("POST", rf"/channels/{GENERAL_ID}/messages")

    async def delivered() -> bool:
        async with app.engine.connect() as conn:
            return (await conn.execute(select(outbox.c.delivered_at))).scalar_one() is not None

    await eventually(delivered)
    # As if the process had died before recording the delivery: the row is due again.
    async with app.engine.begin() as conn:
        await conn.execute(
            update(outbox).values(delivered_at=None, next_attempt_at=app.clock.now())
        )
    app.outbox.wake.set()
    await eventually(delivered)
    posts = [c for c in fake.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert len(posts) == 2  # sent twice, with the same nonce
    assert [text_of(m) for m in fake.channel_messages(GENERAL_ID)] == ["the draw is out"]
