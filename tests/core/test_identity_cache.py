"""Known members are resolved from memory; what this process changes about them (a link, a
language, a join) is seen at the next press, even in the middle of a burst."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context
from cogs.suggestions.service import SuggestionService
from storage.suggestions.schema import suggestions, votes
from tests.core.test_context import counting
from tests.helpers import member
from tests.suggestions.test_service import post


async def _press(app: App, name: str, sid: int, *, platform: str = "console") -> str:
    ctx = await member(app, name, platform=platform)
    reply = await app.dispatcher.press(ctx, f"sv:{sid}")
    assert not reply.error, reply.text
    return reply.text


async def _link(app: App, asks: Context, types: Context) -> None:
    reply = await app.dispatcher.run_line(asks, "/link")
    code = next(w for w in reply.text.split() if w.isupper() and len(w) == 8)
    assert not (await app.dispatcher.run_line(types, f"/link {code}")).error


async def test_a_link_and_a_language_change_during_a_burst_are_seen(app: App) -> None:
    author = await member(app, "author", Role.OWNER)
    cid = author.community.id
    code = (await app.dispatcher.run_line(author, "/community code")).text
    owner_dc = await member(app, "author", Role.OWNER, platform="discord")
    join = code.split(": ")[1].split(".")[0]
    assert not (await app.dispatcher.run_line(owner_dc, f"/join {join}")).error
    sid = await post(app, author, "Dark mode")
    fans = [f"fan{i}" for i in range(40)]
    for name in fans:  # known members: in memory from here on
        await member(app, name)
    lin_console = await member(app, "lin")
    lin_discord = await member(app, "lin", platform="discord")
    await _press(app, "lin", sid)
    await _press(app, "lin", sid, platform="discord")  # one person, two accounts: two votes
    assert (await app.services.get(SuggestionService).get(cid, sid)).votes == 3

    async def change_language() -> None:
        ctx = await member(app, "fan7")
        assert not (await app.dispatcher.run_line(ctx, "/language zh_cn")).error

    first, second = fans[:20], fans[20:]
    await asyncio.gather(
        *(_press(app, n, sid) for n in first),
        _link(app, lin_console, lin_discord),
        change_language(),
        *(_press(app, n, sid) for n in second),
    )

    # The Discord identity is now the console account, at once, and the person counts once.
    after = await member(app, "lin", platform="discord")
    assert after.member.account_id == lin_console.member.account_id
    assert (await member(app, "fan7")).locale == "zh_CN"
    assert (await member(app, "fan8")).locale == "en"
    async with app.engine.connect() as conn:
        counted = (
            await conn.execute(select(func.count()).where(votes.c.suggestion_id == sid))
        ).scalar_one()
        column = (
            await conn.execute(select(suggestions.c.votes).where(suggestions.c.id == sid))
        ).scalar_one()
    assert counted == column == 1 + 1 + len(fans)  # author, lin once, every fan
    # Pressing again from the linked identity takes the one vote back.
    assert "#" in await _press(app, "lin", sid, platform="discord")
    assert (await app.services.get(SuggestionService).get(cid, sid)).votes == 1 + len(fans)


async def test_a_join_moves_the_space_at_once(app: App) -> None:
    owner_dc = await member(app, "owner", Role.OWNER, platform="discord", space="guild-1")
    fan_tg = await member(app, "fan", platform="telegram", space="chat-9")
    assert fan_tg.community.id != owner_dc.community.id
    code = (await app.dispatcher.run_line(owner_dc, "/community code")).text
    join_code = code.split(": ")[1].split(".")[0]
    owner_tg = await member(app, "owner", Role.OWNER, platform="telegram", space="chat-9")
    assert not (await app.dispatcher.run_line(owner_tg, f"/join {join_code}")).error
    again = await member(app, "fan", platform="telegram", space="chat-9")
    assert again.community.id == owner_dc.community.id


async def test_new_members_at_once_get_one_account_each(app: App) -> None:
    names = [f"new{i}" for i in range(30)]
    contexts = await asyncio.gather(*(member(app, n) for n in names * 2))
    accounts = {c.member.platform_user_id: c.member.account_id for c in contexts[:30]}
    assert all(accounts[c.member.platform_user_id] == c.member.account_id for c in contexts)
    assert len(set(accounts.values())) == 30
    with counting(app.engine) as seen:
        await asyncio.gather(*(member(app, n) for n in names))
    assert seen["transactions"] == 0


async def test_a_role_given_during_a_burst_counts_at_the_next_press(app: App) -> None:
    """Roles are the platform's to say on every event (never kept in memory)."""
    fan = await member(app, "promoted")
    again = await member(app, "promoted", Role.ADMIN)
    assert (fan.member.role, again.member.role) == (Role.FAN, Role.ADMIN)
    assert again.member.account_id == fan.member.account_id
