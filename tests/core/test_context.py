"""`app.context(...)`: who acts and where, resolved in one transaction the first time and from
the process's memory for a few seconds after; links and joins made by another process are seen
once the entry expires (`IDENTITY_TTL`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.identity_cache import IDENTITY_TTL
from config.settings import FanloopSettings
from storage.core.schema import members
from tests.helpers import member


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[dict[str, int]]:
    seen = {"transactions": 0, "statements": 0}

    def begin(_conn: Any) -> None:
        seen["transactions"] += 1

    def statement(*_: Any) -> None:
        seen["statements"] += 1

    sync = engine.sync_engine
    event.listen(sync, "begin", begin)
    event.listen(sync, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(sync, "begin", begin)
        event.remove(sync, "before_cursor_execute", statement)


async def last_seen(app: App, community_id: int, account_id: int) -> Any:
    async with app.engine.connect() as conn:
        return (
            await conn.execute(
                select(members.c.joined_at, members.c.last_seen_at).where(
                    members.c.community_id == community_id, members.c.account_id == account_id
                )
            )
        ).one()


async def test_one_transaction_and_one_select_for_a_known_member(app: App) -> None:
    with counting(app.engine) as first:
        ctx = await member(app, "Alice")
    # The misses waiting are read together first (nothing here); account, identity, community,
    # space and membership are then created in one transaction; the third reads the new
    # community's settings (its language), which are then kept.
    assert first["transactions"] == 3
    with counting(app.engine) as again:
        same = await member(app, "Alice")
    assert again == {"transactions": 0, "statements": 0}  # from memory
    assert same.member.account_id == ctx.member.account_id
    assert same.community == ctx.community
    app.identity_cache.clear()  # as after a restart: read with the other misses, no write
    with counting(app.engine) as cold:
        same = await member(app, "Alice")
    assert cold == {"transactions": 1, "statements": 3}
    assert same.member.account_id == ctx.member.account_id


async def test_membership_is_created_then_touched_at_most_every_five_minutes(
    app: App, clock: FakeClock
) -> None:
    ctx = await member(app, "Bob")
    cid, aid = ctx.community.id, ctx.member.account_id
    start = clock.now()
    assert tuple(await last_seen(app, cid, aid)) == (start, start)
    clock.advance(timedelta(minutes=4))
    await member(app, "Bob")
    assert (await last_seen(app, cid, aid)).last_seen_at == start
    clock.advance(timedelta(minutes=2))
    await member(app, "Bob")
    await app.identity_cache.flush()  # written off the press
    assert tuple(await last_seen(app, cid, aid)) == (start, start + timedelta(minutes=6))


async def test_names_and_language_are_read_fresh(app: App) -> None:
    ctx = await member(app, "Carol")
    assert ctx.locale == "en"
    await app.identity.set_account(ctx.member.account_id, locale="zh_CN")
    renamed = await app.context(
        platform="console",
        space_id="console",
        space_name="console",
        user_id="carol",
        display_name="Carol W",
        role=Role.FAN,
    )
    assert renamed.locale == "zh_CN" and renamed.member.display_name == "Carol W"
    names = await app.identity.display_names([ctx.member.account_id])
    assert names[ctx.member.account_id] == "Carol W"


async def test_last_seen_moves_off_the_press_for_members_in_memory(
    app: App, clock: FakeClock
) -> None:
    app.identity_cache.ttl = timedelta(hours=1)  # so that the entry outlives SEEN_EVERY
    ctx = await member(app, "Bob")
    cid, aid = ctx.community.id, ctx.member.account_id
    start = clock.now()
    clock.advance(timedelta(minutes=6))
    with counting(app.engine) as seen:
        await member(app, "Bob")
    assert seen == {"transactions": 0, "statements": 0}  # queued, not written by the press
    await app.identity_cache.flush()
    assert tuple(await last_seen(app, cid, aid)) == (start, start + timedelta(minutes=6))


async def test_links_and_joins_by_another_process_are_seen_when_the_entry_expires(
    app: App, engine: AsyncEngine, clock: FakeClock, settings: FanloopSettings
) -> None:
    other = await App.create(settings, clock, engine=engine, migrate=False)
    owner_dc = await member(app, "owner", Role.OWNER, platform="discord", space="guild-1")
    fan_dc = await member(app, "lin", platform="discord", space="guild-1")
    fan_tg = await member(app, "Lin", platform="telegram", space="chat-9")
    assert fan_tg.community.id != fan_dc.community.id
    assert fan_tg.member.account_id != fan_dc.member.account_id

    # The Telegram group joins the Discord server's community, through the other process.
    owner_there = await member(other, "owner", Role.OWNER, platform="discord", space="guild-1")
    code = (await other.dispatcher.run_line(owner_there, "/community code")).text
    join_code = code.split(": ")[1].split(".")[0]
    owner_tg = await member(other, "owner", Role.OWNER, platform="telegram", space="chat-9")
    assert not (await other.dispatcher.run_line(owner_tg, f"/join {join_code}")).error
    # And Lin links the two accounts there too.
    reply = await other.dispatcher.run_line(
        await member(other, "lin", platform="discord", space="guild-1"), "/link"
    )
    link = next(w for w in reply.text.split() if w.isupper() and len(w) == 8)
    tg_there = await member(other, "Lin", platform="telegram", space="chat-9")
    assert not (await other.dispatcher.run_line(tg_there, f"/link {link}")).error

    still = await member(app, "Lin", platform="telegram", space="chat-9")
    assert still.member.account_id == fan_tg.member.account_id  # this process's memory
    clock.advance(IDENTITY_TTL)
    now_tg = await member(app, "Lin", platform="telegram", space="chat-9")
    assert now_tg.community.id == owner_dc.community.id
    assert now_tg.member.account_id == fan_dc.member.account_id
