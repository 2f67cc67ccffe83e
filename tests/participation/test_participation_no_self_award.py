"""A fan cannot award points to themselves by any command."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.commands import Role
from cogs.participation.sync import RECONCILE_EVERY
from tests.helpers import member
from tests.participation.support import run, said, service, totals


async def test_every_command_that_changes_points_is_refused_to_a_fan(app: App) -> None:
    fan = await member(app, "fan")
    privileged = [spec for spec in app.commands.all() if spec.role > Role.FAN]
    names = {spec.name for spec in privileged}
    assert {"tier set", "tier remove", "tier list", "points recompute", "points reward"} <= names
    assert {"status", "merge", "hide", "settings"} <= names
    for spec in privileged:
        reply = await app.dispatcher.run_line(fan, f"/{spec.name} 1 2 3")
        assert reply.error, spec.name
        assert "needs the role" in reply.text or "owner" in reply.text or "admin" in reply.text
    for kind in ("vote", "suggestion_planned", "suggestion_shipped", "report", "reservation"):
        refused = await app.dispatcher.run_line(fan, f"/settings points_{kind} 1000")
        assert refused.error
    assert await app.community_settings.get(fan.community.id, "points_vote") == 1


async def test_a_fan_acting_on_their_own_suggestion_earns_nothing(
    console: ConsoleAdapter, app: App
) -> None:
    await run(
        console,
        """
        /as mallory fan
        /suggest "Free points for me" "please"
        /vote 1
        /unvote 1
        /vote 1
        !1
        !1
        > +1
        > 同求
        /status 1 shipped
        /merge 1 into 1
        /tier set mallory 1
        /points recompute
        /settings points_vote 100
        /profile
        /leaderboard all
        /tiers
        /as bob fan
        /vote 1
        /as mallory fan
        """,
    )
    await console.handle_line(f"/advance {int(RECONCILE_EVERY.total_seconds())}s")
    cid = (await console.context()).community.id
    await service(app).reconcile(cid)
    bob = (await console.context("bob")).member.account_id
    assert await totals(app, cid) == {bob: 1}  # bob's vote counts; nothing mallory did does
    assert "Points: 0" in said(await console.handle_line("/profile"))


async def test_an_admin_moving_their_own_suggestion_earns_nothing(
    console: ConsoleAdapter, app: App
) -> None:
    await run(
        console,
        """
        /as ada admin
        /suggest "Faster search results" "index everything"
        /status 1 planned
        /advance 1h
        /as you
        /status 1 in_progress
        /advance 1h
        /as ada admin
        /status 1 shipped
        """,
    )
    cid = (await console.context()).community.id
    await service(app).reconcile(cid)
    ada = (await console.context("ada")).member.account_id
    # The owner moved it too (in progress), so it counts as accepted from that moment; it was
    # shipped by its author's own hand: no "shipped" points.
    assert await totals(app, cid) == {ada: 10}
    rows = await service(app).ledger.rows(cid)
    assert [(r.kind, r.at) for r in rows] == [
        ("suggestion_planned", app.clock.now() - timedelta(hours=1))
    ]
