"""Releases, ballots and results through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.errors import UserError
from cogs.suggestions.service import SuggestionService
from cogs.weekly import config
from storage.weekly.ballots import Ballot, BallotRepo
from storage.weekly.schema import fourgrid_ballots
from tests.weekly.weekly_helpers import (
    member,
    open_report,
    outbox,
    release,
    suggestion,
    weekly,
)


async def test_release_ships_suggestions_and_tells_their_voters(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    alice, bob, carol = [await member(app, n) for n in ("alice", "bob", "carol")]
    s = app.services.get(SuggestionService)
    dark = await suggestion(app, alice, "Dark mode")
    widgets = await suggestion(app, carol, "Widgets")
    await s.vote(bob.community.id, dark, bob.member.account_id)
    await s.vote(boss.community.id, dark, boss.member.account_id)  # the actor is not told

    row = await release(app, boss, "v1.2", [dark, "Faster camera start"])
    assert (await s.get(boss.community.id, dark)).status == "shipped"
    assert (await s.get(boss.community.id, widgets)).status == "new"
    items = await weekly(app).items(row.id)
    assert [(i.suggestion_id, i.title) for i in items] == [
        (dark, "Dark mode"),
        (None, "Faster camera start"),
    ]
    queued = await outbox(app)
    told = sorted(q.account_id for q in queued if q.kind == "member")
    assert told == sorted([alice.member.account_id, bob.member.account_id])
    notice = next(q for q in queued if q.kind == "member")
    assert "Shipped in v1.2" in notice.reply.text and "Dark mode" in notice.reply.text
    changelog = [q for q in queued if q.kind == "channel"]
    assert len(changelog) == 1
    assert "v1.2" in changelog[0].reply.title and "Faster camera start" in changelog[0].reply.text
    assert (await weekly(app).releases.get(boss.community.id, row.id)).announced_at is not None

    # Finishing again (a retry, another process) posts nothing more.
    from tests.weekly.weekly_helpers import flows

    assert await flows(app).finish_release(row, boss.member.account_id) is None
    assert len(await outbox(app)) == len(queued)

    # A later release that lists it again does not tell its voters a second time.
    await release(app, boss, "v1.3", [dark, widgets])
    later = (await outbox(app))[len(queued) :]
    assert sorted(q.account_id for q in later if q.kind == "member") == [carol.member.account_id]


async def test_release_input_is_checked(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    s = app.services.get(SuggestionService)
    a = await suggestion(app, boss, "Dark mode for everything")
    b = await suggestion(app, boss, "Dark theme for all screens")
    await s.merge(boss.community.id, b, a, boss.member.account_id)
    cid = boss.community.id
    acc = boss.member.account_id
    svc = weekly(app)
    with pytest.raises(UserError) as err:
        await svc.record_release(cid, "v1", app.clock.now().date(), [], acc)
    assert err.value.key == "release.no_items"
    with pytest.raises(UserError) as err:
        await svc.record_release(cid, "v1", app.clock.now().date(), [b], acc)
    assert err.value.key == "release.item_duplicate"
    with pytest.raises(UserError) as err:
        await svc.record_release(cid, "v1", app.clock.now().date(), [999], acc)
    assert err.value.key == "suggest.unknown"
    with pytest.raises(UserError) as err:
        await svc.record_release(cid, "v1", app.clock.now().date(), [a, a], acc)
    assert err.value.key == "release.item_twice"
    await release(app, boss, "v1", [a])
    with pytest.raises(UserError) as err:
        await svc.record_release(cid, "V1", app.clock.now().date(), ["x"], acc)
    assert err.value.key == "release.version_taken"


async def test_one_ballot_per_account_per_item_changeable_until_close(app: App) -> None:
    assert isinstance(app.clock, FakeClock)
    boss = await member(app, "boss", Role.ADMIN)
    alice = await member(app, "alice")
    row = await release(app, boss, "v1", ["Feature A", "Feature B"])
    report = await open_report(app, row, boss)
    a, b = await weekly(app).items(row.id)
    svc, cid, acc = weekly(app), alice.community.id, alice.member.account_id

    await svc.cast(cid, report.id, a.id, acc, 0)
    await svc.cast(cid, report.id, a.id, acc, 2)  # changed her mind
    await svc.cast(cid, report.id, b.id, acc, 3)
    mine, _ = await svc.mine(report.id, acc)
    assert mine == {a.id: 2, b.id: 3}
    assert await svc.ballots.tallies(report.id) == {a.id: [0, 0, 1, 0], b.id: [0, 0, 0, 1]}
    async with app.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(fourgrid_ballots))
    assert count == 2

    with pytest.raises(UserError) as err:
        await svc.cast(cid, report.id, a.id, acc, 4)
    assert err.value.key == "fourgrid.bad_grid"

    # An item of another release is not part of this report.
    other = await release(app, boss, "v2", ["Feature C"])
    (c,) = await weekly(app).items(other.id)
    with pytest.raises(UserError) as err:
        await svc.cast(cid, report.id, c.id, acc, 0)
    assert err.value.key == "fourgrid.bad_item"

    # The deadline holds even before the scheduler gets to close it.
    app.clock.set(report.closes_at)
    with pytest.raises(UserError) as err:
        await svc.cast(cid, report.id, a.id, acc, 0)
    assert err.value.key == "fourgrid.closed"
    assert (await svc.mine(report.id, acc))[0] == {a.id: 2, b.id: 3}


async def test_the_ballot_store_refuses_closed_reports_itself(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    row = await release(app, boss, "v1", ["Feature A"])
    report = await open_report(app, row, boss)
    (a,) = await weekly(app).items(row.id)
    repo = BallotRepo(app.engine)
    cid, acc, now = boss.community.id, boss.member.account_id, app.clock.now()
    assert await repo.cast(Ballot(cid, report.id, a.id, acc, 1, now))
    # Another community's report is not this community's to fill in.
    assert not await repo.cast(Ballot(cid + 1, report.id, a.id, acc, 2, now))
    assert await weekly(app).close(report)
    # Straight to the repository, bypassing the service's checks: still refused.
    assert not await repo.cast(Ballot(cid, report.id, a.id, acc, 0, now))
    assert await repo.tallies(report.id) == {a.id: [0, 1, 0, 0]}


async def test_anticipation_pick_is_one_open_suggestion(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    alice = await member(app, "alice")
    wanted = await suggestion(app, alice, "Widgets on the lock screen")
    also = await suggestion(app, alice, "Battery graph per app")
    shipped = await suggestion(app, alice, "Dark mode")
    row = await release(app, boss, "v1", [shipped])
    report = await open_report(app, row, boss)
    svc, cid, acc = weekly(app), alice.community.id, alice.member.account_id
    with pytest.raises(UserError) as err:
        await svc.anticipate(cid, report.id, acc, shipped)
    assert err.value.key == "fourgrid.pick_not_open"
    await svc.anticipate(cid, report.id, acc, wanted)
    await svc.anticipate(cid, report.id, acc, also)  # replaces the first pick
    assert (await svc.mine(report.id, acc))[1] == also
    assert await svc.ballots.anticipated(report.id) == [(also, 1)]


async def test_results_rank_flag_award_and_trend(app: App) -> None:
    assert isinstance(app.clock, FakeClock)
    boss = await member(app, "boss", Role.OWNER)
    cid = boss.community.id
    await app.community_settings.set(cid, "fourgrid_min_ballots", "3")
    fans = [await member(app, f"fan{i}") for i in range(6)]
    svc = weekly(app)

    first = await release(app, boss, "v1", ["Old thing"])
    r1 = await open_report(app, first, boss)
    (old,) = await svc.items(first.id)
    for fan in fans[:2]:
        await svc.cast(cid, r1.id, old.id, fan.member.account_id, 0)
    await svc.close(r1)

    second = await release(app, boss, "v2", ["Loved", "Disliked", "Untried"])
    r2 = await open_report(app, second, boss)
    loved, disliked, untried = await svc.items(second.id)
    for fan in fans:
        acc = fan.member.account_id
        await svc.cast(cid, r2.id, loved.id, acc, 0)
        await svc.cast(cid, r2.id, disliked.id, acc, 2 if acc % 2 else 1)
        await svc.cast(cid, r2.id, untried.id, acc, 3)
    await svc.close(r2)
    closed = await svc.report(cid, r2.id)
    cfg = await config.load(app.community_settings, cid)
    res = await svc.results(closed, cfg)
    assert [r.title for r in res.ranking.ranked] == ["Loved", "Disliked", "Untried"]
    assert [r.title for r in res.ranking.not_good_enough] == ["Disliked"]
    assert res.ranking.award is not None and res.ranking.award.title == "Loved"
    assert res.turnout == 6
    # Both opened in one week: the second is told apart from the first.
    assert r1.period == r2.period == "2026-W47"
    assert res.trend == [("2026-W47", 2), ("2026-W47 #2", 6)]


async def test_contributions_once_per_fan_per_report(app: App) -> None:
    assert isinstance(app.clock, FakeClock)
    boss = await member(app, "boss", Role.ADMIN)
    alice = await member(app, "alice")
    row = await release(app, boss, "v1", ["A", "B", "C"])
    report = await open_report(app, row, boss)
    svc, cid = weekly(app), alice.community.id
    start = app.clock.now()
    for item in await svc.items(row.id):
        await svc.cast(cid, report.id, item.id, alice.member.account_id, 1)
        app.clock.advance(timedelta(minutes=5))
    got = await svc.contributions(cid, None)
    assert [(c.account_id, c.kind, c.ref, c.at) for c in got] == [
        (alice.member.account_id, "report", str(report.id), start)
    ]
    assert await svc.contributions(cid, start + timedelta(seconds=1)) == []
    assert svc.contributions in app.contribution_sources


async def test_account_merge_counts_a_linked_person_once(app: App) -> None:
    assert isinstance(app.clock, FakeClock)
    boss = await member(app, "boss", Role.ADMIN)
    discord_me = await member(app, "me-on-discord")
    telegram_me = await member(app, "me-on-telegram")
    wanted = await suggestion(app, boss, "Widgets")
    row = await release(app, boss, "v1", ["A", "B", "C"])
    report = await open_report(app, row, boss)
    a, b, c = await weekly(app).items(row.id)
    svc, cid = weekly(app), boss.community.id
    d, t = discord_me.member.account_id, telegram_me.member.account_id
    await svc.cast(cid, report.id, a.id, d, 0)
    app.clock.advance(timedelta(minutes=1))
    await svc.cast(cid, report.id, a.id, t, 2)  # the more recent choice for A
    await svc.cast(cid, report.id, b.id, t, 1)
    app.clock.advance(timedelta(minutes=1))
    await svc.cast(cid, report.id, c.id, d, 3)
    await svc.anticipate(cid, report.id, t, wanted)

    async with app.engine.begin() as conn:
        for merger in app.account_mergers:
            await merger(conn, t, d)  # the Telegram account is linked into the Discord one

    mine, pick = await svc.mine(report.id, d)
    assert mine == {a.id: 2, b.id: 1, c.id: 3}
    assert pick == wanted
    assert await svc.mine(report.id, t) == ({}, None)
    assert await svc.ballots.turnout(report.id) == 1
    tallies = await svc.ballots.tallies(report.id)
    assert sum(sum(v) for v in tallies.values()) == 3
