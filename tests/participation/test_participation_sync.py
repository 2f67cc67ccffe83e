"""The ledger follows the suggestion loop (and any other source): what earns points, what
doesn't, the daily cap, late and withdrawn contributions, rule changes and recomputation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.context import Context
from bot.core.participation import ScoreProvider
from cogs.participation.sync import RECONCILE_EVERY
from cogs.suggestions.service import SuggestionService
from tests.helpers import member
from tests.participation.support import CountingSource, ListSource, service, totals


async def _post(app: App, author: Context, title: str) -> int:
    s = app.services.get(SuggestionService)
    sub = await s.submit(author.community.id, author.member.account_id, title, "", None, force=True)
    assert sub.posted is not None
    return sub.posted.id


async def test_votes_and_acceptance_earn_points_but_not_from_oneself(app: App) -> None:
    s = app.services.get(SuggestionService)
    alice, bob = await member(app, "alice"), await member(app, "bob")
    admin = await member(app, "admin", Role.ADMIN)
    cid = alice.community.id
    sid = await _post(app, alice, "Dark mode for the app")
    await s.vote(cid, sid, bob.member.account_id)
    await service(app).refresh(cid)
    assert await totals(app, cid) == {bob.member.account_id: 1}  # alice's own vote: nothing

    await s.set_status(cid, sid, "planned", None, admin.member.account_id)
    await s.set_status(cid, sid, "shipped", None, admin.member.account_id)
    await service(app).refresh(cid)
    assert await totals(app, cid) == {alice.member.account_id: 30, bob.member.account_id: 1}

    # An admin moving their own suggestion earns them nothing.
    own = await _post(app, admin, "Faster search results")
    await s.set_status(cid, own, "shipped", None, admin.member.account_id)
    await service(app).reconcile(cid)
    assert admin.member.account_id not in await totals(app, cid)


async def test_withdrawn_hidden_and_duplicate_contributions_leave_at_reconciliation(
    app: App, clock: FakeClock
) -> None:
    s = app.services.get(SuggestionService)
    alice, bob, carol = [await member(app, n) for n in ("alice", "bob", "carol")]
    admin = await member(app, "admin", Role.ADMIN)
    cid = alice.community.id
    b, c = bob.member.account_id, carol.member.account_id
    orig = await _post(app, alice, "Dark mode for the app")
    dup = await _post(app, bob, "Night theme please")
    await s.vote(cid, dup, c)  # carol voted for the duplicate only
    await s.vote(cid, orig, b)
    await s.set_status(cid, dup, "planned", None, admin.member.account_id)
    await service(app).refresh(cid)
    assert await totals(app, cid) == {b: 11, c: 1}

    await s.merge(cid, dup, orig, admin.member.account_id)
    await s.unvote(cid, orig, b)
    await service(app).refresh(cid)  # incremental: only adds
    clock.advance(RECONCILE_EVERY)
    await app.run_due()  # the tick reconciles
    # bob: his duplicate earns nothing, his vote is gone. carol: her vote came over to the
    # original (cast at the same time), still one vote.
    assert await totals(app, cid) == {c: 1}
    rows = {(r.account_id, r.ref) for r in await service(app).ledger.rows(cid)}
    assert rows == {(c, str(orig))}

    await s.set_hidden(cid, orig, True, admin.member.account_id)
    await service(app).reconcile(cid)
    assert await totals(app, cid) == {}
    await s.set_hidden(cid, orig, False, admin.member.account_id)
    await service(app).reconcile(cid)
    assert await totals(app, cid) == {c: 1}


async def test_other_kinds_have_default_points_and_unknown_kinds_none(app: App) -> None:
    fan = await member(app, "fan")
    cid = fan.community.id
    source = ListSource(cid)
    app.contribution_sources.append(source)
    now = app.clock.now()
    source.add(fan.member.account_id, "report", now, "week-47")
    source.add(fan.member.account_id, "reservation", now, "drop-3")
    source.add(fan.member.account_id, "streak", now, "x")  # no rule: not recorded
    await service(app).refresh(cid)
    assert await totals(app, cid) == {fan.member.account_id: 4}
    kinds = {r.kind for r in await service(app).ledger.rows(cid)}
    assert kinds == {"report", "reservation"}


async def test_daily_cap_in_the_community_time_zone(app: App, clock: FakeClock) -> None:
    fan = await member(app, "fan")
    cid = fan.community.id
    await app.community_settings.set(cid, "timezone", "Asia/Shanghai")
    await app.community_settings.set(cid, "points_daily_cap", "3")
    source = ListSource(cid)
    app.contribution_sources.append(source)
    # 09:00 UTC is 17:00 in Shanghai; 16:30 UTC is already the next day there.
    start = clock.now()
    for i in range(5):
        source.add(fan.member.account_id, "vote", start + timedelta(minutes=i), f"{i}")
    await service(app).refresh(cid)
    assert await totals(app, cid) == {fan.member.account_id: 3}
    clock.advance(timedelta(hours=7, minutes=30))
    for i in range(5, 7):
        source.add(fan.member.account_id, "vote", clock.now(), f"{i}")
    await service(app).refresh(cid)
    assert await totals(app, cid) == {fan.member.account_id: 5}
    # A counted vote taken back lets the next one of that day count.
    source.remove(fan.member.account_id, "vote", "0")
    await service(app).reconcile(cid)
    assert await totals(app, cid) == {fan.member.account_id: 5}
    counted = sorted(r.ref for r in await service(app).ledger.rows(cid) if r.counted)
    assert counted == ["1", "2", "3", "5", "6"]


async def test_rule_changes_apply_from_then_on_and_recompute_rewrites_history(app: App) -> None:
    fan = await member(app, "fan")
    cid = fan.community.id
    source = ListSource(cid)
    app.contribution_sources.append(source)
    source.add(fan.member.account_id, "report", app.clock.now(), "w1")
    await service(app).refresh(cid)
    await app.community_settings.set(cid, "points_report", "10")
    source.add(fan.member.account_id, "report", app.clock.now(), "w2")
    await service(app).refresh(cid)
    await service(app).reconcile(cid)  # reconciling keeps what was credited
    assert await totals(app, cid) == {fan.member.account_id: 13}
    result = await service(app).recompute(cid)
    assert (result.rows, result.points_before, result.points_after) == (2, 13, 20)
    assert await totals(app, cid) == {fan.member.account_id: 20}


async def test_a_failing_source_removes_nothing(app: App, clock: FakeClock) -> None:
    fan = await member(app, "fan")
    cid = fan.community.id
    source = ListSource(cid)
    app.contribution_sources.append(source)
    source.add(fan.member.account_id, "report", clock.now(), "w1")
    await service(app).refresh(cid)
    source.fail = True
    with pytest.raises(RuntimeError):
        await service(app).reconcile(cid)
    clock.advance(RECONCILE_EVERY)
    await app.run_due()  # logged, the tick goes on
    assert await totals(app, cid) == {fan.member.account_id: 3}
    source.fail = False
    clock.advance(RECONCILE_EVERY)
    await app.run_due()
    assert await totals(app, cid) == {fan.member.account_id: 3}


async def test_a_burst_of_score_checks_shares_syncs(app: App) -> None:
    fans = [await member(app, f"fan{i}") for i in range(30)]
    cid = fans[0].community.id
    source = CountingSource(cid)
    app.contribution_sources.append(source)
    for f in fans:
        source.add(f.member.account_id, "reservation", app.clock.now(), "drop-1")
    await service(app).refresh(cid)
    source.calls = 0
    scores = app.services.get(ScoreProvider)  # type: ignore[type-abstract]
    points = await asyncio.gather(*(scores.points(cid, f.member.account_id) for f in fans))
    assert points == [1] * 30
    assert 1 <= source.calls <= 3  # not one sync per check
    # Sequential calls each see what happened before them.
    late = await member(app, "late")
    source.add(late.member.account_id, "reservation", app.clock.now(), "drop-1")
    assert await scores.points(cid, late.member.account_id) == 1
    assert await scores.tier(cid, late.member.account_id) is None
