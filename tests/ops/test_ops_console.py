"""GET /healthz and GET /metrics of a running App, asked over HTTP while members act through the
console: the counters move with the interactions, the gauges read the database (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.scheduler import Scheduler
from storage.core.jobs import JobsRepo
from storage.core.outbox import NewMessage, OutboxRepo
from tests.ops.scrape import health, scrape


async def run(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


def text(events: list[OutEvent]) -> str:
    return "\n".join(e.reply.plain_text() for e in events)


async def test_healthz_answers_ok_when_the_database_answers(ops: str) -> None:
    status, body = await health(ops)
    assert status == 200
    assert body == {"status": "ok", "db": "ok", "platforms": {}}


async def test_interactions_are_counted_by_kind_and_outcome(
    console: ConsoleAdapter, ops: str
) -> None:
    before = await scrape(ops)
    await run(
        console,
        "/as alice fan",
        '/suggest "Dark mode for the app" "The white screen hurts at night"',
        "/as bob fan",
    )
    hint = await console.handle_line('/suggest "Add a dark theme" "Night mode please"')
    assert hint[0].actions[0][1] == "sv:1"
    assert "Votes now: 2" in text(await console.handle_line("!1"))  # a button
    await console.handle_line("/as dave fan")
    assert "Voted for #1" in text(await console.handle_line("> me too!"))  # a reply
    await console.handle_line("/nosuchcommand")  # refused, with a message
    after = await scrape(ops)

    def moved(name: str, **labels: str) -> float:
        return after.get(name, platform="console", **labels) - before.get(
            name, platform="console", **labels
        )

    assert moved("fanloop_interactions_total", kind="command", outcome="ok") == 2
    assert moved("fanloop_interactions_total", kind="command", outcome="refused") == 1
    assert moved("fanloop_interactions_total", kind="button", outcome="ok") == 1
    assert moved("fanloop_interactions_total", kind="reply", outcome="ok") == 1
    assert moved("fanloop_interactions_total", outcome="failed") == 0
    # Each one took a time, observed in the histogram of its kind.
    assert moved("fanloop_interaction_duration_seconds_count", kind="command") == 3
    assert moved("fanloop_interaction_duration_seconds_count", kind="button") == 1
    assert moved("fanloop_interaction_duration_seconds_sum", kind="button") > 0
    assert after.get("fanloop_database_up") == 1


async def test_gauges_read_the_outbox_and_the_jobs(
    app: App, clock: FakeClock, console: ConsoleAdapter, ops: str
) -> None:
    await run(console, "/as alice fan", '/suggest "Dark mode" "Too bright at night"')
    outbox = OutboxRepo(app.engine)

    def message(platform: str, n: int) -> NewMessage:
        return NewMessage(1, platform, "member", str(n), {"text": f"hello {n}"})

    first = clock.now()
    await outbox.add([message("telegram", n) for n in range(3)], first)
    clock.advance(timedelta(seconds=90))
    await outbox.add([message("discord", 9)], clock.now())
    got = await scrape(ops)
    assert got.value("fanloop_outbox_pending", platform="telegram") == 3
    assert got.value("fanloop_outbox_oldest_pending_age_seconds", platform="telegram") == 90
    assert got.value("fanloop_outbox_pending", platform="discord") == 1
    assert got.value("fanloop_outbox_oldest_pending_age_seconds", platform="discord") == 0

    # Delivered messages leave the backlog; a platform with nothing waiting has no series.
    due = await outbox.claim_due("discord", clock.now(), 10)
    await outbox.delivered(due[0].id, clock.now())
    got = await scrape(ops)
    assert got.value("fanloop_outbox_pending", platform="discord") is None
    assert got.value("fanloop_outbox_pending", platform="telegram") == 3

    # Unfinished job claims: one running (its lease held), one whose process died (its lease
    # ran out on the wall clock); the oldest was claimed 40 s ago on the App's clock.
    jobs = JobsRepo(app.engine)
    gone = JobsRepo(app.engine, wall=lambda: datetime.now(UTC) - timedelta(hours=2))
    assert await gone.claim("fourgrid:1:2026-W47", "dead-process", clock.now())
    clock.advance(timedelta(seconds=10))
    assert await jobs.claim("digest:1:2026-11-20", "live-process", clock.now())
    clock.advance(timedelta(seconds=30))
    got = await scrape(ops)
    assert got.value("fanloop_jobs_unfinished", state="running") == 1
    assert got.value("fanloop_jobs_unfinished", state="abandoned") == 1
    assert got.value("fanloop_job_oldest_unfinished_age_seconds") == 40
    await jobs.finish("digest:1:2026-11-20", clock.now())
    got = await scrape(ops)
    assert got.value("fanloop_jobs_unfinished", state="running") == 0


async def test_job_lag_grows_while_no_scheduler_ticks(app: App, clock: FakeClock, ops: str) -> None:
    got = await scrape(ops)
    assert got.value("fanloop_job_lag_seconds") is None  # no process holds the lease
    assert got.value("fanloop_scheduler_leader") == 0

    scheduler = Scheduler(app)
    await scheduler.tick()  # this process takes the lease and runs the due work
    got = await scrape(ops)
    assert got.value("fanloop_job_lag_seconds") == 0
    assert got.value("fanloop_scheduler_leader") == 1
    assert got.get("fanloop_scheduler_last_tick_timestamp_seconds") > 0

    clock.advance(timedelta(seconds=45))  # no tick since
    got = await scrape(ops)
    assert got.value("fanloop_job_lag_seconds") == 45
    await scheduler.tick()
    assert (await scrape(ops)).value("fanloop_job_lag_seconds") == 0

    await scheduler.stop()  # gives the lease up
    got = await scrape(ops)
    assert got.value("fanloop_job_lag_seconds") is None
    assert got.value("fanloop_scheduler_leader") == 0


async def test_drop_claims_are_counted_by_answer(
    console: ConsoleAdapter, clock: FakeClock, ops: str
) -> None:
    await run(
        console,
        '/drop create "Redmi Note" 1 "2026-11-20 12:00" flash waitlist=1',
        "/as alice fan",
        "/reserve 1",
        "/as bob fan",
        "/reserve 1",
        "/as carol fan",
        "/reserve 1",
        "/advance 3h",
    )
    before = await scrape(ops)
    answers = {}
    for who in ("alice", "alice", "bob", "carol", "eve"):
        await console.handle_line(f"/as {who} fan")
        answers.setdefault(who, []).append(text(await console.handle_line("/claim 1")))
    assert "You got" in answers["alice"][0] and "already got" in answers["alice"][1]
    assert "#1 on the waiting list" in answers["bob"][0]
    assert "did not reserve" in answers["eve"][0]
    after = await scrape(ops)

    def moved(result: str) -> float:
        name = "fanloop_drop_claims_total"
        return after.get(name, result=result) - before.get(name, result=result)

    assert moved("won") == 2  # a repeated press counts again
    assert moved("waitlisted") == 1
    assert moved("sold_out") == 1  # carol: the slot and the waiting list are taken
    assert moved("not_reserved") == 1
