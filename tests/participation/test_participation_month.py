"""A scripted month of a community through the console, on the fake clock: suggestions, votes,
spam, a duplicate, statuses, weekly reports and a drop's reservations (reported by stand-ins for
those cogs), the daily cap, tiers — and the points everyone ends up with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import DEFAULT_COGS, FanloopSettings
from tests.participation.support import ListSource, run, said, service, suggest, totals


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    # The weekly report and the drops are played by stand-ins (`ListSource`), so their cogs stay
    # out: their due work would only run on every simulated hour.
    left_out = {"cogs.weekly", "cogs.drops", "cogs.participation"}
    cogs = [c for c in DEFAULT_COGS if c not in left_out] + ["cogs.participation"]
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)


@pytest.fixture
def clock() -> FakeClock:
    # The month starts on the last day of November: the ten days before it hold nothing to tick.
    return FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))


async def test_a_month_of_participation(console: ConsoleAdapter, app: App) -> None:
    # Monday 2026-11-30 09:00 UTC; the community lives in Shanghai. Go to Dec 1, 00:00 local.
    setup = await run(
        console,
        """
        /settings timezone Asia/Shanghai
        /settings points_daily_cap 3
        /tier set insider 10
        /tier set "honor tester" 30 Honor Tester
        /advance 7h
        """,
    )
    assert "It is now 2026-11-30T16:00+00:00." in said(setup)
    cid = (await console.context()).community.id
    weekly = ListSource(cid)  # the weekly report's and the drops' contributions
    app.contribution_sources.append(weekly)

    def account(name: str) -> int:
        return ids[name]

    ids: dict[str, int] = {}
    for name in ("alice", "bob", "carol", "dan", "erin", "frank", "sam"):
        ids[name] = (await console.context(name)).member.account_id

    # Week 1: suggestions, votes, spam that gets hidden, one suggestion planned.
    week1 = await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /as bob fan
        /suggest "Offline maps" "For the subway"
        /as carol fan
        /vote 1
        /vote 2
        /as bob fan
        /vote 1
        /as sam fan
        /suggest "CHEAP PHONES visit my shop" "spam"
        /vote 1
        /as alice fan
        /vote 1
        /vote 2
        /vote 3
        /as you
        /hide 3
        /status 1 planned
        /advance 7d
        """,
    )
    assert "#3 CHEAP PHONES" in said(week1)
    # alice reaches 10 (insider) when her suggestion is planned.
    assert "grant role insider: alice" in said(week1, "channel")
    assert "alice is now insider (10+ points)!" in said(week1, "channel")

    # Week 2: a duplicate merged into #1, a vote taken back, reports, #2 ships.
    await console.handle_line("/as dan fan")
    assert "#4 Night theme" in await suggest(console, "Night theme", "Dark colours for the app")
    now = app.clock.now()
    for name in ("alice", "bob", "carol"):
        weekly.add(account(name), "report", now, "2026-W49")
    week2 = await run(
        console,
        """
        /as erin fan
        /vote 4
        /as you
        /merge 4 into 1
        /as carol fan
        /unvote 2
        /as you
        /status 2 shipped
        /advance 7d
        """,
    )
    assert "bob is now honor tester (30+ points)!" in said(week2, "channel")
    assert "grant role Honor Tester: bob" in said(week2, "channel")

    # Week 3: carol votes for four suggestions in one day (the cap is 3), a drop, reports.
    await console.handle_line("/as frank fan")
    for n, (title, details) in enumerate(
        [
            ("Battery saver schedule", "turn on at night"),
            ("Lock screen widgets", "weather and calendar"),
            ("Call recording", "for both sides"),
            ("Split keyboard", "for tablets"),
        ],
        start=5,
    ):
        assert f"#{n} {title}" in await suggest(console, title, details)
    await run(
        console,
        """
        /as carol fan
        /vote 5
        /vote 6
        /vote 7
        /vote 8
        """,
    )
    now = app.clock.now()
    for name in ("alice", "dan"):
        weekly.add(account(name), "reservation", now, "drop-1")
    for name in ("alice", "carol"):
        weekly.add(account(name), "report", now, "2026-W50")
    await console.handle_line("/advance 7d")

    # Week 4: #1 ships; erin votes.
    week4 = await run(
        console,
        """
        /as you
        /status 1 shipped
        /as erin fan
        /vote 5
        /advance 7d
        """,
    )
    assert "alice is now honor tester (30+ points)!" in said(week4, "channel")

    expected = {"alice": 38, "bob": 34, "carol": 10, "dan": 2, "erin": 2, "sam": 1}
    assert await totals(app, cid) == {account(n): p for n, p in expected.items()}

    await console.handle_line("/as you")
    december = said(await console.handle_line("/leaderboard month"))
    assert "this month (2026-12)" in december
    assert (
        "1. alice — 38\n2. bob — 34\n3. carol — 10\n4. dan — 2\n4. erin — 2\n6. sam — 1" in december
    )
    await console.handle_line("/advance 3d")  # Jan 1, 2027 in Shanghai
    assert "No points this month (2027-01) yet." in said(
        await console.handle_line("/leaderboard month")
    )
    assert "1. alice — 38" in said(await console.handle_line("/leaderboard last_month"))
    testers = said(await console.handle_line('/tier list "honor tester"'))
    assert "honor tester — members: 2" in testers
    assert "bob (since" in testers and "alice (since" in testers
    carol = said(await console.handle_line("/profile carol"))
    assert "Votes: 5 · +4" in carol  # five votes recorded, four within the daily cap
    assert "Four-grid reports filled in: 2 · +6" in carol

    # The record is derived from stored events: recomputing changes nothing.
    before = await totals(app, cid)
    result = await service(app).recompute(cid)
    assert result.points_before == result.points_after == sum(expected.values())
    assert await totals(app, cid) == before
