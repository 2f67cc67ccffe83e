"""Leaderboards: ties share a rank, periods follow the community's time zone, profiles."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from tests.participation.support import ListSource, run, said


async def _advance_to(console: ConsoleAdapter, clock: FakeClock, when: datetime) -> None:
    seconds = int((when - clock.now()).total_seconds())
    assert seconds >= 0
    week = 7 * 24 * 3600  # the longest /advance
    while seconds:
        step = min(seconds, week)
        await console.handle_line(f"/advance {step}s")
        seconds -= step


async def test_ties_share_a_rank_and_the_first_to_get_there_is_listed_first(
    console: ConsoleAdapter,
) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /suggest "Offline maps" "For the subway" category=none
        /as carol fan
        /vote 1
        /advance 10m
        /as bob fan
        /vote 1
        /vote 2
        /advance 10m
        /as carol fan
        /vote 2
        /as dan fan
        /vote 1
        """,
    )
    board = said(await console.handle_line("/leaderboard"))
    # bob reached 2 points at 09:10, carol at 09:20: same rank, bob first; dan is third.
    assert "1. bob — 2\n1. carol — 2\n3. dan — 1" in board
    assert "Same points share a rank" in board


async def test_periods_follow_the_community_time_zone(
    console: ConsoleAdapter, app: App, clock: FakeClock
) -> None:
    await run(console, "/settings timezone Asia/Shanghai\n/as erin fan\n/as frank fan\n/as you")
    empty = said(await console.handle_line("/leaderboard"))
    assert "No points this week (2026-11-16 – 2026-11-22) yet." in empty
    cid = (await console.context()).community.id
    erin = (await console.context("erin")).member.account_id
    frank = (await console.context("frank")).member.account_id
    source = ListSource(cid)
    app.contribution_sources.append(source)
    # Sunday 23:30 in Shanghai (15:30 UTC) is still the week of Nov 16; 00:30 on Monday is not.
    await _advance_to(console, clock, datetime(2026, 11, 22, 15, 30, tzinfo=UTC))
    source.add(erin, "report", clock.now(), "w47")
    await _advance_to(console, clock, datetime(2026, 11, 22, 16, 30, tzinfo=UTC))
    source.add(frank, "report", clock.now(), "w48")

    week = said(await console.handle_line("/leaderboard week"))
    assert "this week (2026-11-23 – 2026-11-29)" in week
    assert "1. frank — 3" in week and "erin" not in week
    last = said(await console.handle_line("/leaderboard last_week"))
    assert "last week (2026-11-16 – 2026-11-22)" in last
    assert "1. erin — 3" in last and "frank" not in last
    # In UTC both happened on Sunday, in the week that is still running there.
    await console.handle_line("/settings timezone UTC")
    utc_week = said(await console.handle_line("/leaderboard week"))
    assert "1. erin — 3" in utc_week and "1. frank — 3" in utc_week
    await console.handle_line("/settings timezone Asia/Shanghai")

    # Months: 23:30 on Nov 30 local time is November; 00:30 on Dec 1 is December.
    await _advance_to(console, clock, datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    source.add(erin, "report", clock.now(), "nov")
    await _advance_to(console, clock, datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    source.add(frank, "report", clock.now(), "dec")
    month = said(await console.handle_line("/leaderboard month"))
    assert "this month (2026-12)" in month and "1. frank — 3" in month and "erin" not in month
    last_month = said(await console.handle_line("/leaderboard last_month"))
    assert "last month (2026-11)" in last_month
    assert "1. erin — 6\n2. frank — 3" in last_month
    everything = said(await console.handle_line("/leaderboard all"))
    assert "all time" in everything and "1. erin — 6\n1. frank — 6" in everything
    both = said(await console.handle_line("/leaderboard week"))  # Monday Nov 30 local onwards
    assert "1. erin — 3\n1. frank — 3" in both
    bad = await console.handle_line("/leaderboard yesterday")
    assert bad[0].reply.error and "week, month, all, last_week, last_month" in said(bad)


async def test_profile_shows_points_rank_tier_suggestions_and_reports(
    console: ConsoleAdapter, app: App
) -> None:
    await run(
        console,
        """
        /tier set insider 5
        /tier set "honor tester" 50
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /suggest "Offline maps" "For the subway"
        /as bob fan
        /vote 1
        /as you
        /status 1 shipped
        /hide 2
        """,
    )
    cid = (await console.context()).community.id
    source = ListSource(cid)
    app.contribution_sources.append(source)
    alice = (await console.context("alice")).member.account_id
    source.add(alice, "report", app.clock.now(), "w47")

    mine = said(await console.handle_line("/profile alice"))
    assert "👤 alice" in mine
    assert "Points: 33 (#1 of 2)" in mine
    assert "This week / month: 33 / 33" in mine
    assert "Tier: insider\nnext: honor tester at 50 points (17 to go)" in mine
    assert "Suggestions accepted: 1 · +10" in mine and "Suggestions shipped: 1 · +20" in mine
    assert "Four-grid reports filled in: 1 · +3" in mine
    assert "#1 Dark mode for the app — Shipped" in mine
    assert "#2 Offline maps — New" in mine  # hidden, but the owner asks

    await console.handle_line("/as bob fan")
    theirs = said(await console.handle_line("/profile ALICE"))
    assert "#1 Dark mode for the app — Shipped" in theirs and "Offline maps" not in theirs
    own = said(await console.handle_line("/profile"))
    assert "👤 bob" in own and "Points: 1 (#2 of 2)" in own and "Votes: 1 · +1" in own
    assert "Tier: —\nnext: insider at 5 points (4 to go)" in own
    missing = await console.handle_line("/profile nobody")
    assert missing[0].reply.error and "No member called nobody here." in said(missing)
