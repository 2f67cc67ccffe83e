"""A drop's card in the server's channel is its live message: the live count and the owner's
edits change it in place (`PATCH`), never as a new post; a 429 is waited out; a deleted card
is posted anew and edited from then on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.core.app import App
from cogs.drops.service import DropService
from devtools.servers.discord_api import GENERAL_ID, FakeDiscord
from storage.core.schema import outbox
from tests.discord.conftest import Bot, eventually, text_of

CHANNEL_POSTS = rf"/channels/{GENERAL_ID}/messages"


async def settled(app: App) -> bool:
    async with app.engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.delivered_at, outbox.c.failed_at))).all()
    return all(r.delivered_at or r.failed_at for r in rows)


async def tick(app: App, seconds: float = 61) -> None:
    """Time passes (past `drop_status_seconds`) and the drops' due work runs."""
    app.clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]
    kick = app.services.get(DropService).kick
    assert kick is not None
    await kick()
    app.outbox.wake.set()


def channel_cards(fake: FakeDiscord) -> list[dict[str, Any]]:
    """The drop's posts in the channel (not the answers to the owner's commands)."""
    return [
        m
        for m in fake.channel_messages(GENERAL_ID)
        if "Phone" in text_of(m) and not m.get("webhook_id")
    ]


async def test_live_count_and_edits_change_the_card_in_place(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    made = await bot.slash(
        fake.owner, "drop create", name="Phone", quota=3, drop="2026-11-20 12:00"
    )
    assert "Drop #1" in text_of(made.message)
    await fake.wait_for("POST", CHANNEL_POSTS)
    (card,) = channel_cards(fake)
    assert "Reserved\n0" in text_of(card)

    for name in ("Alice", "Bob"):
        answer = await bot.run(fake.press(fake.add_member(name), card, "dr:1"))
        assert "Reserved" in text_of(answer.message)

    # The live count: the card itself is edited with the counts from the database.
    await tick(app)
    await fake.wait_for("PATCH", rf"/channels/{GENERAL_ID}/messages/{card['id']}")
    await eventually(lambda: settled(app))
    (now,) = channel_cards(fake)
    assert now["id"] == card["id"] and "Reserved\n2" in text_of(now)
    assert [b["custom_id"] for r in now["components"] for b in r["components"]] == ["dr:1"]
    assert len(fake.calls_to("POST", CHANNEL_POSTS)) == 1

    # The owner's edit after opening shows at once, on the same message.
    edited = await bot.slash(fake.owner, "drop edit", drop=1, description="Now in blue")
    assert "updated" in text_of(edited.message)
    await fake.wait_for("PATCH", rf"/channels/{GENERAL_ID}/messages/{card['id']}", count=2)
    await eventually(lambda: settled(app))
    (now,) = channel_cards(fake)
    assert "Now in blue" in text_of(now) and "Reserved\n2" in text_of(now)
    # A structural change is refused in the owner's language, and changes nothing.
    refused = await bot.slash(fake.owner, "drop edit", drop=1, quota=9, _locale="zh-CN")
    assert "不能再修改" in text_of(refused.message)
    # A fan may not edit a drop.
    denied = await bot.slash(fake.add_member("Carol"), "drop edit", drop=1, description="x")
    assert "owner" in text_of(denied.message).lower()
    assert "Now in blue" in text_of(channel_cards(fake)[0])

    # Rate limited for longer than discord.py waits: the update waits in the outbox, then the
    # card is edited with the state of then; still no new post.
    path = rf"/channels/{GENERAL_ID}/messages/{card['id']}"
    fake.fail("PATCH", path, 429, retry_after=120)
    await bot.run(fake.press(fake.add_member("Dave"), card, "dr:1"))
    await tick(app)
    await fake.wait_for("PATCH", path, count=3)

    async def waiting() -> bool:  # the update went back to the outbox for retry_after
        async with app.engine.connect() as conn:
            last = (await conn.execute(select(outbox).order_by(outbox.c.id.desc()))).first()
        return last is not None and last.attempts == 1 and last.delivered_at is None

    await eventually(waiting)
    app.clock.advance(timedelta(seconds=121))  # type: ignore[attr-defined]
    app.outbox.wake.set()
    await fake.wait_for("PATCH", path, count=4)
    await eventually(lambda: settled(app))
    (now,) = channel_cards(fake)
    assert now["id"] == card["id"] and "Reserved\n3" in text_of(now)
    assert len(fake.calls_to("POST", CHANNEL_POSTS)) == 1

    # Someone deleted the card: the next update posts it again, and later ones edit that one.
    fake.deleted.add(card["id"])
    await bot.run(fake.press(fake.add_member("Erin"), card, "dr:1"))
    await tick(app)
    await fake.wait_for("POST", CHANNEL_POSTS, count=2)
    await eventually(lambda: settled(app))
    (again,) = channel_cards(fake)
    assert again["id"] != card["id"] and "Reserved\n4" in text_of(again)
    await bot.slash(fake.owner, "drop edit", drop=1, description="Last call")
    await fake.wait_for("PATCH", rf"/channels/{GENERAL_ID}/messages/{again['id']}")
    await eventually(lambda: settled(app))
    (again,) = channel_cards(fake)
    assert "Last call" in text_of(again)
    assert len(fake.calls_to("POST", CHANNEL_POSTS)) == 2
