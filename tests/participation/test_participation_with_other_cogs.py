"""With the real drops and weekly cogs: tiers and points gate a drop, reservations earn points,
the top of the leaderboard gets the drop's F-codes, a release and its four-grid report count."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from config.settings import DEFAULT_COGS, FanloopSettings
from tests.participation.support import run, said, totals


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    cogs = list(DEFAULT_COGS)
    for cog in ("cogs.drops", "cogs.weekly", "cogs.participation"):
        if cog not in cogs:
            cogs.append(cog)
    return FanloopSettings(data_dir=tmp_path / "data", cogs=cogs)


async def test_points_and_tiers_gate_a_drop_and_the_top_get_its_fcodes(
    console: ConsoleAdapter, app: App
) -> None:
    await run(
        console,
        """
        /tier set insider 10
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /as bob fan
        /vote 1
        /as you
        /status 1 planned
        /drop create "Redmi Note" 3 "2026-11-27 12:00" tiers=insider
        """,
    )
    refused = said(await run(console, "/as bob fan\n/reserve 1"), "bob")
    assert "insider" in refused and "Reserved" not in refused
    accepted = said(await run(console, "/as alice fan\n/reserve 1"), "alice")
    assert 'Reserved "Redmi Note"' in accepted

    cid = (await console.context()).community.id
    alice = (await console.context("alice")).member.account_id
    bob = (await console.context("bob")).member.account_id
    await console.handle_line("/advance 1h")
    assert await totals(app, cid) == {alice: 11, bob: 1}  # the reservation earned a point

    out = await run(console, "/as you\n/points reward 1 2 all")
    assert "F-codes for drop #1 sent to the top 2 of all time: alice, bob." in said(out, "channel")
    notice = said(out, "bob")
    assert "You placed #2 all time" in notice and "Your F-code for drop #1:" in notice
    code = notice.rsplit(": ", 1)[1].strip()
    used = said(await run(console, f"/as bob fan\n/fcode {code}"), "bob")
    assert "F-code accepted" in used and "Redmi Note" in used


async def test_a_release_and_its_four_grid_report_earn_points(
    console: ConsoleAdapter, app: App
) -> None:
    await run(
        console,
        """
        /as alice fan
        /suggest "Dark mode for the app" "Too bright at night"
        /as bob fan
        /vote 1
        /as boss admin
        /release new v1.2 #1; Faster camera start
        /advance 4d1h
        /as bob fan
        /report vote 1 love
        /report vote 2 fine
        /as carol fan
        /report vote 2 love
        /advance 1h
        """,
    )
    cid = (await console.context()).community.id
    ids = {n: (await console.context(n)).member.account_id for n in ("alice", "bob", "carol")}
    # alice: her suggestion shipped (accepted 10 + shipped 20); bob: a vote and a report (one
    # report however many items he graded); carol: a report.
    assert await totals(app, cid) == {ids["alice"]: 30, ids["bob"]: 4, ids["carol"]: 3}
    profile = said(await run(console, "/as bob fan\n/profile"), "bob")
    assert "Four-grid reports filled in: 1 · +3" in profile
