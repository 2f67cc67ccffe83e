"""The schedule: the report opens on the community's day and time in its time zone (daylight
saving included), closes after the configured duration, catches up after downtime exactly once,
and runs once even with two processes ticking on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from bot.core.context import Context
from cogs.suggestions.service import SuggestionService
from storage.engine import create_engine
from tests.weekly.weekly_helpers import Queued, member, outbox, release, suggestion, weekly


def fake(app: App) -> FakeClock:
    assert isinstance(app.clock, FakeClock)
    return app.clock


async def tick_until(app: App, end: datetime, step: timedelta = timedelta(hours=1)) -> None:
    clock = fake(app)
    while clock.now() < end:
        clock.set(min(end, clock.now() + step))
        await app.run_due()


async def setup_release(app: App, tz: str = "UTC", **settings: str) -> Context:
    boss = await member(app, "boss", Role.OWNER)
    await app.community_settings.set(boss.community.id, "timezone", tz)
    for key, value in settings.items():
        await app.community_settings.set(boss.community.id, key, value)
    await release(app, boss, "v1", ["Feature A", "Feature B"])
    return boss


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def opened(app: App, boss: Context) -> list[datetime]:
    report = await weekly(app).reports.latest(boss.community.id)
    return [report.opened_at] if report else []


async def test_opens_on_tuesday_and_closes_48_hours_later(app: App) -> None:
    boss = await setup_release(app)  # Friday 2026-11-20 09:00 UTC
    await tick_until(app, utc(2026, 11, 24, 9, 55), timedelta(hours=2))
    assert await opened(app, boss) == []
    await tick_until(app, utc(2026, 11, 24, 10, 5), timedelta(minutes=5))
    report = await weekly(app).reports.latest(boss.community.id)
    assert report is not None and report.opened_at == utc(2026, 11, 24, 10, 0)
    assert report.period == "2026-W48" and report.opened_by is None
    assert report.closes_at == utc(2026, 11, 26, 10, 0)
    await tick_until(app, utc(2026, 11, 26, 9, 55), timedelta(hours=3))
    assert (await weekly(app).report(boss.community.id, report.id)).status == "open"
    await tick_until(app, utc(2026, 11, 26, 10, 0), timedelta(minutes=5))
    closed = await weekly(app).report(boss.community.id, report.id)
    assert closed.status == "closed" and closed.results_posted_at == utc(2026, 11, 26, 10, 0)
    posts = [q for q in await outbox(app) if q.kind == "channel"]
    assert [p.reply.title.split(":")[0] for p in posts] == [
        "🍊 v1 is out · 2026-11-20",
        "📝 Four-grid report",
        "📊 Four-grid results",
    ]
    # Nobody filled it in: the results say so, without a chart of zeros.
    assert posts[-1].reply.image is None and "Nobody filled in" in posts[-1].reply.text
    # A week later nothing opens again: the release has had its report.
    await tick_until(app, utc(2026, 12, 2, 12, 0), timedelta(hours=6))
    assert len([q for q in await outbox(app) if q.kind == "channel"]) == 3


async def test_bot_down_over_tuesday_opens_once_when_it_starts(app: App) -> None:
    boss = await setup_release(app)
    fake(app).set(utc(2026, 11, 25, 15, 30))  # nothing ran since Friday
    await app.run_due()
    await app.run_due()
    report = await weekly(app).reports.latest(boss.community.id)
    assert report is not None and report.period == "2026-W48"
    assert report.opened_at == utc(2026, 11, 25, 15, 30)
    # Fans get the whole duration, counted from when it really opened.
    assert report.closes_at == utc(2026, 11, 27, 15, 30)
    opens = [q for q in await outbox(app) if q.dedup_key and "fourgrid-open" in q.dedup_key]
    assert len(opens) == 1


async def test_a_release_after_this_weeks_time_waits_for_next_week(app: App) -> None:
    boss = await member(app, "boss", Role.OWNER)
    fake(app).set(utc(2026, 11, 24, 11, 0))  # Tuesday, an hour after 10:00
    await release(app, boss, "late", ["Feature"])
    await tick_until(app, utc(2026, 11, 30, 12, 0), timedelta(hours=6))
    assert await opened(app, boss) == []
    await tick_until(app, utc(2026, 12, 1, 10, 30), timedelta(minutes=30))
    assert await opened(app, boss) == [utc(2026, 12, 1, 10, 0)]


async def test_configured_day_time_and_zone(app: App) -> None:
    # Thursday 20:00 in Shanghai is 12:00 UTC.
    boss = await setup_release(
        app, "Asia/Shanghai", fourgrid_day="thu", fourgrid_time="20:00", fourgrid_duration="1d"
    )
    await tick_until(app, utc(2026, 11, 26, 12, 0), timedelta(hours=1))
    report = await weekly(app).reports.latest(boss.community.id)
    assert report is not None and report.opened_at == utc(2026, 11, 26, 12, 0)
    assert report.closes_at == utc(2026, 11, 27, 12, 0)


async def test_automatic_opening_can_be_turned_off(app: App) -> None:
    boss = await setup_release(app, fourgrid_auto="off")
    await tick_until(app, utc(2026, 11, 25, 12, 0), timedelta(hours=4))
    assert await opened(app, boss) == []


async def test_berlin_autumn_night_opens_once_at_the_first_0230(app: App) -> None:
    # 2026-10-25: clocks go back at 03:00 CEST, so 02:30 happens twice (00:30 and 01:30 UTC).
    fake(app).set(utc(2026, 10, 23, 9, 0))
    await setup_release(app, "Europe/Berlin", fourgrid_day="sun", fourgrid_time="02:30")
    boss = await member(app, "boss", Role.OWNER)
    await tick_until(app, utc(2026, 10, 25, 0, 0), timedelta(hours=3))
    assert await opened(app, boss) == []
    await tick_until(app, utc(2026, 10, 25, 3, 0), timedelta(minutes=15))
    assert await opened(app, boss) == [utc(2026, 10, 25, 0, 30)]
    report = await weekly(app).reports.latest(boss.community.id)
    assert report is not None and report.period == "2026-W43"


async def test_berlin_spring_night_opens_once_though_0230_does_not_exist(app: App) -> None:
    # 2026-03-29: clocks jump from 02:00 to 03:00 CET→CEST; 02:30 is skipped.
    fake(app).set(utc(2026, 3, 27, 9, 0))
    await setup_release(app, "Europe/Berlin", fourgrid_day="sun", fourgrid_time="02:30")
    boss = await member(app, "boss", Role.OWNER)
    await tick_until(app, utc(2026, 3, 29, 6, 0), timedelta(minutes=30))
    times = await opened(app, boss)
    assert len(times) == 1 and utc(2026, 3, 29, 0, 30) <= times[0] <= utc(2026, 3, 29, 2, 0)


async def test_new_york_keeps_ten_oclock_across_the_change(app: App) -> None:
    # 10:00 in New York: 14:00 UTC in daylight time (to 2026-11-01), 15:00 UTC after.
    fake(app).set(utc(2026, 10, 23, 12, 0))
    boss = await setup_release(app, "America/New_York", fourgrid_duration="2h")
    await tick_until(app, utc(2026, 10, 27, 12, 0), timedelta(hours=8))
    await tick_until(app, utc(2026, 10, 27, 16, 0), timedelta(minutes=30))
    assert await opened(app, boss) == [utc(2026, 10, 27, 14, 0)]
    await release(app, boss, "v2", ["Next"])
    await tick_until(app, utc(2026, 11, 3, 12, 0), timedelta(hours=8))
    await tick_until(app, utc(2026, 11, 3, 16, 0), timedelta(minutes=30))
    assert await opened(app, boss) == [utc(2026, 11, 3, 15, 0)]


async def _second_engine(engine: AsyncEngine) -> AsyncEngine:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            schema = (await conn.execute(text("SHOW search_path"))).scalar()
        return create_engine(url, schema=str(schema))
    return create_engine(url)


async def test_two_processes_on_one_database_do_everything_once(app: App) -> None:
    boss = await setup_release(app)
    engine = await _second_engine(app.engine)
    other = await App.create(app.settings, app.clock, engine=engine, migrate=False)
    try:
        for moment in (utc(2026, 11, 24, 10, 0), utc(2026, 11, 26, 10, 0)):
            fake(app).set(moment)
            await asyncio.gather(app.run_due(), other.run_due(), app.run_due(), other.run_due())
        reports = weekly(app).reports
        report = await reports.latest(boss.community.id)
        assert report is not None and report.status == "closed"
        assert report.results_posted_at is not None
        posts = [q for q in await outbox(app) if q.kind == "channel"]
        assert len(posts) == 3  # the changelog, the opening, the results
    finally:
        await engine.dispose()


async def test_release_left_half_done_is_finished_by_the_schedule(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    fan = await member(app, "fan")
    sid = await suggestion(app, fan, "Dark mode")
    # Recorded, then the process stopped before the changelog and the notices.
    row = await weekly(app).record_release(
        boss.community.id, "v9", app.clock.now().date(), [sid], boss.member.account_id
    )
    assert await outbox(app) == []
    await app.run_due()
    s = app.services.get(SuggestionService)
    assert (await s.get(boss.community.id, sid)).status == "shipped"
    queued = await outbox(app)
    assert {q.kind for q in queued} == {"channel", "member"}
    assert (await weekly(app).releases.get(boss.community.id, row.id)).announced_at is not None
    await app.run_due()
    assert len(await outbox(app)) == len(queued)


async def test_daily_digest_for_subscribed_admins(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    cid = boss.community.id
    await weekly(app).digest_subscribers.subscribe(
        cid, boss.member.account_id, True, app.clock.now()
    )
    fan = await member(app, "fan")
    fake(app).set(utc(2026, 11, 21, 8, 0))
    await suggestion(app, fan, "Dark mode for the whole app")
    await suggestion(app, fan, "Dark mode for the app at night")
    await tick_until(app, utc(2026, 11, 21, 9, 30), timedelta(minutes=30))
    digests = [q for q in await outbox(app) if q.kind == "member"]
    assert len(digests) == 1 and digests[0].account_id == boss.member.account_id
    body = digests[0].reply.text
    assert "New suggestions (last 24 h): 2" in body
    assert "Likely duplicates" in body
    # Once a day, and quiet days (nothing new, nothing rising) send nothing.
    await tick_until(app, utc(2026, 11, 23, 12, 0), timedelta(hours=1))
    assert len([q for q in await outbox(app) if q.kind == "member"]) == 1
    await suggestion(app, fan, "Battery graph per app")
    await tick_until(app, utc(2026, 11, 24, 12, 0), timedelta(hours=1))
    days = [q.dedup_key or "" for q in await outbox(app) if q.kind == "member"]
    assert len(days) == 2 and days[1].startswith(f"digest:{cid}:2026-11-24")
    # Turned off: nothing more.
    await weekly(app).digest_subscribers.subscribe(
        cid, boss.member.account_id, False, app.clock.now()
    )
    await suggestion(app, fan, "Something new")
    await tick_until(app, utc(2026, 11, 25, 12, 0), timedelta(hours=1))
    assert len([q for q in await outbox(app) if q.kind == "member"]) == 2


async def test_monthly_roadmap_post(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    cid = boss.community.id
    s = app.services.get(SuggestionService)
    planned = await suggestion(app, boss, "Widgets")
    await s.set_status(cid, planned, "planned", None, boss.member.account_id)
    await tick_until(app, utc(2026, 12, 1, 9, 0), timedelta(hours=12))
    assert not [q for q in await outbox(app) if q.kind == "channel"]
    await tick_until(app, utc(2026, 12, 2, 10, 0), timedelta(hours=1))
    posts = [q for q in await outbox(app) if q.kind == "channel"]
    assert len(posts) == 1 and posts[0].dedup_key == f"roadmap:{cid}:2026-12:console:console"
    assert "Widgets" in posts[0].reply.text and "2026-12" in posts[0].reply.title


async def test_roadmap_catch_up_is_limited_to_three_days(app: App) -> None:
    boss = await member(app, "boss", Role.ADMIN)
    s = app.services.get(SuggestionService)
    planned = await suggestion(app, boss, "Widgets")
    await s.set_status(boss.community.id, planned, "planned", None, boss.member.account_id)
    fake(app).set(utc(2026, 12, 5, 12, 0))  # down from Nov 30 to Dec 5
    await app.run_due()
    assert not [q for q in await outbox(app) if q.kind == "channel"]


async def digests(app: App) -> list[Queued]:
    return [q for q in await outbox(app) if (q.dedup_key or "").startswith("digest:")]


async def test_quiet_days_send_no_digest_though_a_report_waits(app: App) -> None:
    # A release waits for its report and a suggestion is still warm from yesterday's votes:
    # that is the same every day, not news; the digest goes out again once something happens.
    boss = await setup_release(app)  # Friday 2026-11-20 09:00 UTC: the report is due Tuesday
    cid = boss.community.id
    await weekly(app).digest_subscribers.subscribe(
        cid, boss.member.account_id, True, app.clock.now()
    )
    s = app.services.get(SuggestionService)
    sid = await suggestion(app, boss, "Dark mode for the whole app")
    for n in range(9):
        fan = await member(app, f"fan{n}")
        await s.vote(cid, sid, fan.member.account_id)
    await tick_until(app, utc(2026, 11, 20, 9, 30), timedelta(minutes=30))
    [friday] = await digests(app)
    assert "Rising:" in friday.reply.text and "v1: its report opens" in friday.reply.text
    # Saturday to Monday: nothing new, no new vote, though the suggestion's heat (a one-day
    # half-life) stays above 1 until Sunday and the report line is there every day.
    await tick_until(app, utc(2026, 11, 23, 12, 0), timedelta(hours=1))
    assert len(await digests(app)) == 1
    late = await member(app, "latecomer")
    await s.vote(cid, sid, late.member.account_id)
    await tick_until(app, utc(2026, 11, 24, 9, 5), timedelta(minutes=30))
    sent = await digests(app)
    assert len(sent) == 2 and (sent[1].dedup_key or "").startswith(f"digest:{cid}:2026-11-24")
    assert "Rising:" in sent[1].reply.text and "v1: its report opens" in sent[1].reply.text
    assert "quiet" not in sent[1].reply.text
