"""Points by hand: owners grant or deduct points with a reason; the member is told, sees it in
their profile, and it counts in totals, leaderboards and tiers, through recomputes too."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from tests.helpers import member
from tests.participation.support import run, said, service, totals

_spaces = itertools.count()


async def test_grant_and_deduct_through_the_console(console: ConsoleAdapter, app: App) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /as bob fan
        /vote 1
        /as you
        """,
    )
    granted = await console.handle_line("/points grant alice 25 Found the login bug")
    assert "alice got 25 points: Found the login bug. Their total: 25." in said(granted, "you")
    assert "You were given 25 points: Found the login bug. Your total: 25." in said(
        granted, "alice"
    )
    deducted = await console.handle_line("/points deduct bob 1 Vote from a second account")
    assert "bob lost 1 points" in said(deducted, "you") and "Their total: 0" in said(deducted)
    assert "bob" in {e.to for e in deducted}

    await console.handle_line("/as alice fan")
    profile = said(await console.handle_line("/profile"))
    assert "Points by hand (+25)" in profile and "+25 · Found the login bug" in profile
    board = said(await console.handle_line("/leaderboard all"))
    assert "1. alice — 25" in board and "bob" not in board

    cid = (await console.context()).community.id
    await service(app).recompute(cid)  # rebuilt from the contributions: the grants stay
    alice = (await console.context("alice")).member.account_id
    assert (await totals(app, cid))[alice] == 25


async def test_only_owners_and_bad_input(console: ConsoleAdapter) -> None:
    await run(console, '/as alice fan\n/suggest "Dark mode for the app" "Too bright"')
    for who in ("alice fan", "mod admin"):
        await console.handle_line(f"/as {who}")
        refused = said(await console.handle_line("/points grant alice 5 because"))
        assert "needs the owner role" in refused
    await console.handle_line("/as you")
    assert "Cannot take 5 points: the member has 0" in said(
        await console.handle_line("/points deduct alice 5 cheating")
    )
    assert "at least 1" in said(await console.handle_line("/points grant alice 0 nothing"))
    assert "at most 100000" in said(await console.handle_line("/points grant alice 1000000 x"))
    assert "at least 1" in said(await console.handle_line("/points grant alice -3 x"))
    assert "reason must not be empty" in said(
        await console.handle_line("/points grant alice 5 \u200b\u200b")
    )
    assert "No member called zed here" in said(await console.handle_line("/points grant zed 5 who"))
    long = "x" * 201
    assert "at most 200" in said(await console.handle_line(f"/points grant alice 5 {long}"))


async def test_a_grant_reaches_a_tier(console: ConsoleAdapter) -> None:
    await run(console, "/tier set insider 10\n/as alice fan\n/vote 999\n/as you")
    out = await console.handle_line("/points grant alice 12 Helped moderate the launch")
    assert "alice is now insider" in said(out, "channel")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.integers(-50, 50).filter(bool), max_size=10))
async def test_totals_are_the_ledger_plus_what_was_granted(app: App, changes: list[int]) -> None:
    """Whatever grants and deductions, a total is the earned points plus the grants, a
    deduction beyond the total is refused, and a recompute changes nothing."""
    space = f"grants-{next(_spaces)}"
    owner = await member(app, "owner", Role.OWNER, space=space)
    fan = await member(app, "fan", space=space)
    cid, who = fan.community.id, fan.member.account_id
    loop = app.services.get(SuggestionService)
    sub = await loop.submit(cid, owner.member.account_id, "Dark mode", "", None)
    assert sub.posted is not None
    await loop.vote(cid, sub.posted.id, who)  # earns the vote's point
    points = service(app)
    expected = await points.points(cid, who)
    for change in changes:
        try:
            total = await points.grant(cid, who, change, "because", owner.member.account_id)
        except UserError as exc:
            assert exc.key == "points.deduct.too_many" and -change > expected
            continue
        expected += change
        assert total == expected >= 0
    assert await points.points(cid, who) == expected
    await points.recompute(cid)
    assert await points.points(cid, who) == expected
