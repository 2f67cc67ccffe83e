"""Outgoing webhooks end to end: the owner sets the address and gets a secret through the console,
every event type reaches a local receiver signed, a 500 is retried and delivered once, what was
pending is delivered after a restart; fans are refused; a bad address is refused in both languages.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import OutEvent
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from cogs.webhooks import signing
from cogs.webhooks.service import PLATFORM, WebhookService
from config.settings import FanloopSettings
from storage.core.schema import outbox
from storage.engine import create_engine
from tests.conftest import PG_URL
from tests.helpers import member
from tests.webhooks.receiver import Receiver, receiver
from tests.weekly.weekly_helpers import flows, open_report, release


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out.extend(await console.handle_line(line))
    return out


def text(events: list[OutEvent]) -> str:
    return "\n".join(e.reply.plain_text() for e in events)


@pytest_asyncio.fixture
async def hook() -> AsyncIterator[Receiver]:
    async with receiver() as rec:
        yield rec


@pytest_asyncio.fixture(autouse=True)
async def closing(app: App) -> AsyncIterator[None]:
    yield
    await app.services.get(WebhookService).close()


async def configure(console: ConsoleAdapter, url: str) -> str:
    """Set the webhook as the owner; the secret, as the owner's private message shows it."""
    out = await say(console, "/as boss owner", f"/settings webhook_url {url}", "/webhook secret")
    private = [e for e in out if e.to == "boss" and "whsec_" in e.reply.plain_text()]
    assert len(private) == 1, text(out)
    match = re.search(r"whsec_[A-Za-z0-9_-]+", private[0].reply.plain_text())
    assert match
    assert "on its way to you in a private message" in text(out)
    return match.group(0)


async def deliver_all(app: App) -> int:
    worker = app.services.get(WebhookService).worker()
    done = 0
    while n := await worker.run_once():
        done += n
    return done


def check_signature(secret: str, received_headers: dict[str, str], body: bytes, now: int) -> None:
    """The README's recipe, written out with nothing but hmac and hashlib."""
    value = received_headers[signing.HEADER]
    parts = dict(p.split("=", 1) for p in value.split(","))
    assert abs(now - int(parts["t"])) <= 300
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    assert signing.verify(secret, value, body, now)
    assert not signing.verify(secret, value, body + b" ", now)
    assert not signing.verify(secret + "x", value, body, now)


async def test_corrections_moderation_and_comments_reach_the_receiver(
    console: ConsoleAdapter, app: App, hook: Receiver
) -> None:
    """An edit, a hide and its undoing, a deletion and its undoing, an unmerge, a comment and
    its removal (by its author, by an admin): each one event, in order; a suggestion taken out
    of sight is sent by id alone, its text never; a hidden suggestion's comment sends nothing."""
    await configure(console, hook.url)
    out = await say(
        console,
        '/suggest "Dark mode for the app" "The white screen hurts at night"',
        '/suggest "A night theme" force',
        "/merge 2 into 1",
        "/unmerge 2",
        '/edit 1 "Dark mode everywhere" | Also the widgets',
        "/comment 1 Yes please",
        "/comment 1 +1 from me",
        "/hide 1",
        "/comment 1 Said while it is hidden",
        "/unhide 1",
        "/uncomment 1",
        "/hidecomment 2",
        "/delete 2",
        "/restore 2",
    )
    assert "error" not in text(out).lower(), text(out)
    await deliver_all(app)
    bodies = [r.json for r in hook.received]
    assert [b["type"] for b in bodies] == [
        "suggestion.created",
        "suggestion.created",
        "suggestion.merged",
        "suggestion.unmerged",
        "suggestion.edited",
        "comment.created",
        "comment.created",
        "suggestion.hidden",
        "suggestion.shown",
        "comment.removed",
        "comment.removed",
        "suggestion.deleted",
        "suggestion.restored",
    ]
    by_type = {b["type"]: b["data"] for b in bodies}
    unmerged = by_type["suggestion.unmerged"]
    assert unmerged["suggestion"]["id"] == 2 and unmerged["from"] == {"id": 1}
    assert unmerged["suggestion"]["status"] != "duplicate"
    edited = by_type["suggestion.edited"]
    assert edited["old"] == {
        "title": "Dark mode for the app",
        "details": "The white screen hurts at night",
    }
    assert edited["suggestion"]["title"] == "Dark mode everywhere"
    comment = bodies[5]["data"]
    assert comment["suggestion"]["id"] == 1 and comment["comment"]["text"] == "Yes please"
    assert by_type["suggestion.hidden"] == {"suggestion": {"id": 1}}
    assert by_type["suggestion.shown"]["suggestion"]["title"] == "Dark mode everywhere"
    assert [b["data"]["by"] for b in bodies[9:11]] == ["author", "admin"]
    assert bodies[9]["data"]["comment"] == {"id": 1}
    assert by_type["suggestion.deleted"] == {"suggestion": {"id": 2}}
    assert by_type["suggestion.restored"]["suggestion"]["title"] == "A night theme"
    received = b"".join(r.body for r in hook.received).decode()
    assert "Said while it is hidden" not in received
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert await deliver_all(app) == 0  # nothing twice


async def test_every_event_reaches_the_receiver_signed(
    console: ConsoleAdapter, app: App, clock: FakeClock, hook: Receiver
) -> None:
    secret = await configure(console, hook.url)
    await say(
        console,
        '/suggest "Dark mode for the app" "The white screen hurts at night"',
        "/status 1 planned Next month",
        '/suggest "A night theme" force',
        "/merge 2 into 1",
    )
    boss = await member(app, "boss", Role.OWNER)
    shipped = await release(app, boss, "v1.2", [1, "New icons"])
    report = await open_report(app, shipped, boss)
    await flows(app).close(report)
    await say(
        console,
        '/drop create "Phone" 2 "2026-11-21 09:00" lottery opens="2026-11-20 10:00" '
        'closes="2026-11-21 08:00"',
        "/advance 1h",
        "/as fan1 fan",
        "/reserve 1",
        "/as boss owner",
        "/advance 1d",
    )
    delivered = await deliver_all(app)
    assert delivered == 8, [r.json["type"] for r in hook.received]
    now = int(clock.now().timestamp())
    bodies = [r.json for r in hook.received]
    for r in hook.received:
        check_signature(secret, r.headers, r.body, now)
        assert r.headers["Fanloop-Event"] == r.json["type"]
        assert r.headers["Fanloop-Delivery"] == r.json["id"]
        assert r.headers["Content-Type"].startswith("application/json")
    types = [b["type"] for b in bodies]
    assert types == [
        "suggestion.created",
        "suggestion.status_changed",
        "suggestion.created",
        "suggestion.merged",
        "suggestion.status_changed",
        "release.published",
        "report.results",
        "drop.results",
    ]
    assert len({b["id"] for b in bodies}) == 8
    created, planned, _, merged, shipped_status, released, results, drop = bodies
    assert created["data"]["suggestion"]["title"] == "Dark mode for the app"
    assert created["community"]["id"] == boss.community.id
    assert planned["data"]["old_status"] == "new"
    assert planned["data"]["suggestion"]["status"] == "planned"
    assert planned["data"]["suggestion"]["status_note"] == "Next month"
    assert merged["data"]["suggestion"]["id"] == 2
    assert merged["data"]["into"]["id"] == 1
    assert shipped_status["data"]["suggestion"]["status"] == "shipped"
    assert released["data"]["release"]["version"] == "v1.2"
    assert [i["title"] for i in released["data"]["release"]["items"]][1] == "New icons"
    assert results["data"]["report"]["release"] == "v1.2"
    assert drop["data"]["drop"]["name"] == "Phone"
    assert drop["data"]["drop"]["winners"] == 1 and drop["data"]["drop"]["entrants"] == 1
    lottery = drop["data"]["drop"]
    assert hashlib.sha256(bytes.fromhex(lottery["seed"])).hexdigest() == lottery["commitment"]
    assert "fan1" not in hook.received[-1].body.decode()  # counts and proof, not who won
    # Nothing is sent twice.
    assert await deliver_all(app) == 0


async def test_a_500_is_retried_and_delivered_once(
    console: ConsoleAdapter, app: App, clock: FakeClock, hook: Receiver, engine: AsyncEngine
) -> None:
    secret = await configure(console, hook.url)
    hook.answers = [500, 503]
    await say(console, '/suggest "Dark mode for the app" force')
    worker = app.services.get(WebhookService).worker()
    assert await worker.run_once() == 0  # 500: kept, with a back-off
    assert len(hook.received) == 1
    assert await worker.run_once() == 0  # not due yet
    assert len(hook.received) == 1
    clock.advance(timedelta(seconds=3))
    assert await worker.run_once() == 0  # 503
    clock.advance(timedelta(seconds=5))
    assert await worker.run_once() == 1  # 200
    assert await deliver_all(app) == 0
    assert len(hook.received) == 3
    assert len({r.body for r in hook.received}) == 1  # the same bytes, the same id each time
    check_signature(
        secret, hook.received[-1].headers, hook.received[-1].body, int(clock.now().timestamp())
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.platform == PLATFORM))).all()
    assert len(rows) == 1 and rows[0].delivered_at is not None and rows[0].attempts == 3


async def test_a_restart_delivers_what_was_pending(
    console: ConsoleAdapter,
    app: App,
    clock: FakeClock,
    hook: Receiver,
    engine: AsyncEngine,
    settings: FanloopSettings,
) -> None:
    secret = await configure(console, hook.url)
    await say(console, '/suggest "Dark mode for the app" force', '/suggest "Offline maps" force')
    # A process claims the deliveries and dies before sending them.
    claimed = await app.outbox.repo.claim_due(PLATFORM, clock.now(), 50, timedelta(seconds=15))
    assert len(claimed) == 2
    restarted = await App.create(settings, clock, engine=engine, migrate=False)
    assert await deliver_all(restarted) == 0  # still leased by the dead process
    clock.advance(timedelta(seconds=16))
    try:
        assert await deliver_all(restarted) == 2
    finally:
        await restarted.services.get(WebhookService).close()
    assert [r.json["data"]["suggestion"]["title"] for r in hook.received] == [
        "Dark mode for the app",
        "Offline maps",
    ]
    for r in hook.received:
        check_signature(secret, r.headers, r.body, int(clock.now().timestamp()))


async def test_the_serving_worker_delivers_after_start(
    console: ConsoleAdapter, app: App, hook: Receiver
) -> None:
    await configure(console, hook.url)
    await say(console, '/suggest "Dark mode for the app" force')
    app.start_feed()
    try:
        for _ in range(500):  # the worker runs in the background: until the receiver has it
            if hook.received:
                break
            await asyncio.sleep(0.01)
    finally:
        await app.stop_workers()
        await app.changes.stop()
    assert len(hook.received) == 1


async def test_nothing_is_sent_without_a_webhook_or_a_secret(
    console: ConsoleAdapter, app: App, hook: Receiver
) -> None:
    await say(console, "/as boss owner", '/suggest "Dark mode" force')
    await say(console, f"/settings webhook_url {hook.url}", '/suggest "Night theme" force')
    assert await deliver_all(app) == 0 and hook.received == []
    out = await say(console, "/webhook test")
    assert "no signing secret yet" in text(out)
    await configure(console, hook.url)
    out = await say(console, "/webhook test")
    assert "A test event" in text(out) and "127.0.0.1" in text(out)
    assert await deliver_all(app) == 1
    assert hook.received[0].json["type"] == "ping"
    # Removed: what waits is given up, nothing new is kept.
    await say(console, '/suggest "Offline maps" force', "/settings webhook_url reset")
    assert await deliver_all(app) == 0
    assert len(hook.received) == 1


async def test_owners_only_and_a_bad_address_is_refused(
    console: ConsoleAdapter, app: App, hook: Receiver
) -> None:
    out = await say(console, "/as boss owner", "/as fan1 fan", f"/settings webhook_url {hook.url}")
    assert out[-1].reply.error
    out = await say(console, "/webhook secret")
    assert out[-1].reply.error and "whsec_" not in text(out)
    out = await say(console, "/webhook test")
    assert out[-1].reply.error
    await say(console, "/as boss owner")
    for bad in (
        "ftp://example.com/x",
        "example.com/hook",
        "https://",
        "http://exa mple.com",
        "https://h:99999/",
    ):
        out = await say(console, f"/settings webhook_url {bad}")
        assert out[-1].reply.error, bad
        assert "not a web address fanloop can send to" in text(out), bad
    out = await say(console, "/settings webhook_url https://example.com/" + "a" * 600)
    assert out[-1].reply.error
    await say(console, "/settings language zh_cn", "/as zhang owner")
    out = await say(console, "/settings webhook_url ftp://example.com/x")
    assert out[-1].reply.error and "不是 fanloop 可以发送的网址" in text(out)


async def test_settings_show_the_address_masked(console: ConsoleAdapter, hook: Receiver) -> None:
    out = await say(
        console,
        "/as boss owner",
        "/settings webhook_url https://user:pw@hooks.example.com/T0K3N?k=v",
    )
    assert "https://hooks.example.com/…" in text(out) and "T0K3N" not in text(out)
    out = await say(console, "/settings")
    assert "https://hooks.example.com/…" in text(out)
    assert "T0K3N" not in text(out) and "pw" not in text(out)
    out = await say(console, "/webhook secret", "/settings")
    assert "whsec_" not in text([e for e in out if e.to != "boss"])
    # The audit log, which admins read, keeps the address masked too.
    out = await say(console, "/as mod admin", "/audit")
    assert "webhook_url" in text(out) and "https://hooks.example.com/…" in text(out)
    assert "T0K3N" not in text(out) and "whsec_" not in text(out)


@given(
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=200),
    t=st.integers(min_value=0, max_value=2**40),
    flip=st.integers(min_value=0, max_value=199),
)
def test_a_signature_checks_only_its_own_body(secret: str, body: bytes, t: int, flip: int) -> None:
    value = signing.header(secret, t, body)
    assert signing.verify(secret, value, body, t)
    assert not signing.verify(secret, value, body, t + signing.TOLERANCE + 1)
    if body:
        i = flip % len(body)
        tampered = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
        assert not signing.verify(secret, value, tampered, t)


async def test_two_processes_send_each_event_once(
    console: ConsoleAdapter,
    app: App,
    clock: FakeClock,
    hook: Receiver,
    db_kind: str,
    engine: AsyncEngine,
    settings: FanloopSettings,
) -> None:
    await configure(console, hook.url)
    boss = await member(app, "boss", Role.OWNER)
    service = app.services.get(SuggestionService)
    for n in range(30):
        await service.submit(
            boss.community.id, boss.member.account_id, f"Idea {n}", "", None, force=True
        )
    other_engine = engine
    if db_kind == "postgresql":  # a second process: its own connections to the same schema
        async with engine.connect() as conn:
            schema = (await conn.execute(sql("SELECT current_schema()"))).scalar_one()
        other_engine = create_engine(PG_URL, schema=schema)
    other = await App.create(settings, clock, engine=other_engine, migrate=False)
    workers = [a.services.get(WebhookService).worker() for a in (app, other)]
    for w in workers:
        w.batch = 4  # small batches, so that the two interleave
    try:
        while sum(await asyncio.gather(*(w.run_once() for w in workers))):
            pass
    finally:
        await other.services.get(WebhookService).close()
        if other_engine is not engine:
            await other_engine.dispose()
    ids = [r.json["id"] for r in hook.received]
    assert len(ids) == 30 and len(set(ids)) == 30


async def test_a_flash_drop_selling_out_is_its_results(
    console: ConsoleAdapter, app: App, clock: FakeClock, hook: Receiver
) -> None:
    secret = await configure(console, hook.url)
    await say(
        console,
        '/drop create "Redmi Note" 1 "2026-11-20 12:00" flash confirm=1d',
        "/as alice fan",
        "/reserve 1",
        "/advance 3h",
        "/claim 1",
    )
    out = await say(console, "/advance 1d")
    assert "sold out" in text([e for e in out if e.to == "channel"])
    assert await deliver_all(app) == 1
    (received,) = hook.received
    check_signature(secret, received.headers, received.body, int(clock.now().timestamp()))
    drop = received.json["data"]["drop"]
    assert received.json["type"] == "drop.results"
    assert drop["mode"] == "flash" and drop["quota"] == 1 and drop["sold_out_at"]
    assert "seed" not in drop and "alice" not in received.body.decode()
