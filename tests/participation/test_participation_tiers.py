"""Tiers: promotion and demotion move roles and are announced; owners define and remove tiers;
the member list is the answer where platforms have no roles."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.participation.sync import RECONCILE_EVERY
from tests.participation.support import ListSource, run, said, service


async def test_promotion_and_demotion_through_the_console(
    console: ConsoleAdapter, app: App
) -> None:
    out = await run(
        console,
        """
        /tier set insider 3
        /tier set "honor tester" 10 Honor Tester
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /as bob fan
        /vote 1
        /as you
        /status 1 planned
        """,
    )
    assert "Tier insider created: from 3 points, role: insider" in said(out)
    promoted = await console.handle_line("/advance 1h")
    channel = said(promoted, "channel")
    assert "grant role Honor Tester: alice" in channel
    assert "alice is now honor tester (10+ points)!" in channel
    assert "bob" not in channel  # 1 point: no tier yet

    cid = (await console.context()).community.id
    assert await service(app).tier(cid, (await console.context("alice")).member.account_id) == (
        "honor tester"
    )
    listing = await console.handle_line('/tier list "Honor Tester"')
    assert "honor tester — members: 1" in said(listing) and "alice (since" in said(listing)

    # Declined after all: the acceptance points go at the next reconciliation, and the role.
    await console.handle_line("/status 1 declined")
    demoted = await console.handle_line(f"/advance {int(RECONCILE_EVERY.total_seconds())}s")
    channel = said(demoted, "channel")
    assert "revoke role Honor Tester: alice" in channel
    assert "is now" not in channel  # demotions are not announced
    assert await service(app).tier(cid, (await console.context("alice")).member.account_id) is None


async def test_moving_up_swaps_roles_and_removing_a_tier_moves_members_down(
    console: ConsoleAdapter, app: App, clock: FakeClock
) -> None:
    await run(console, "/tier set insider 3\n/tier set honor 6 Honor\n/as dan fan\n/as you")
    dan = (await console.context("dan")).member.account_id
    cid = (await console.context()).community.id
    source = ListSource(cid)
    app.contribution_sources.append(source)

    source.add(dan, "report", app.clock.now(), "w1")
    first = await console.handle_line("/leaderboard")  # commands sync before answering
    assert "grant role insider: dan" in said(first, "channel")
    assert "dan is now insider" in said(first, "channel")

    clock.advance(timedelta(minutes=1))
    source.add(dan, "report", app.clock.now(), "w2")
    second = await console.handle_line("/tiers")
    channel = said(second, "channel")
    assert "revoke role insider: dan" in channel and "grant role Honor: dan" in channel
    assert "dan is now honor" in channel
    assert "honor — from 6 points · members: 1 · role: Honor" in channel
    assert "insider — from 3 points · members: 0" in channel

    removed = await console.handle_line("/tier remove HONOR")
    text = said(removed)
    assert "Tier honor removed; the members who held it (1) moved to the tier below." in text
    assert "revoke role Honor: dan" in text and "grant role insider: dan" in text
    assert "is now" not in text

    # Changing a tier's role moves the role of everyone in it.
    changed = await console.handle_line("/tier set Insider 3 Insiders")
    text = said(changed)
    assert "Tier insider changed" in text
    assert "revoke role insider: dan" in text and "grant role Insiders: dan" in text
    no_role = await console.handle_line("/tier set insider 3 none")
    assert "revoke role Insiders: dan" in said(no_role) and "grant role" not in said(no_role)


async def test_bad_tier_commands_get_clear_answers(console: ConsoleAdapter) -> None:
    await console.handle_line("/tier set insider 3")
    clash = await console.handle_line("/tier set veteran 3")
    assert clash[0].reply.error
    assert "Tier insider already starts at 3 points" in said(clash)
    unknown = await console.handle_line("/tier remove nobody")
    assert unknown[0].reply.error and "There is no tier called nobody" in said(unknown)
    zero = await console.handle_line("/tier set free 0")
    assert zero[0].reply.error
    empty = await console.handle_line("/tier list insider")
    assert "Nobody is in insider yet." in said(empty)
    await console.handle_line("/as eve fan")
    for line in ("/tier set eve 1", "/tier remove insider", "/tier list insider"):
        refused = await console.handle_line(line)
        assert refused[0].reply.error and "owner" in said(refused)


async def test_chinese_messages(console: ConsoleAdapter) -> None:
    await console.handle_line("/language zh_cn")
    out = await console.handle_line('/tier set "荣誉内测组" 5')
    assert "已创建等级 荣誉内测组：5 分起，身份组：荣誉内测组。" in said(out)
    tiers = await console.handle_line("/tiers")
    assert "如何获得积分" in said(tiers) and "为他人的需求投票：+1 分" in said(tiers)
