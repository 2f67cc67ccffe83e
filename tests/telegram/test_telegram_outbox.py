"""Notifications from the outbox: Telegram's limits, 429 retry_after, members out of reach."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.adapters.telegram.throttle import SendThrottle
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.reply import Button, Reply
from storage.core.schema import outbox
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, FakeMonotonic, World, worker


async def rows(app: App) -> list:
    async with app.engine.connect() as conn:
        return list((await conn.execute(select(outbox).order_by(outbox.c.id))).all())


async def members_of_group(world: World) -> dict[str, int]:
    ids = {}
    for who in (ALICE, BOB, CAROL):
        await world.say(who, "/help")
        ident = await world.app.identity.account_for(
            "telegram", str(who["id"]), "", world.app.clock.now()
        )
        ids[who["first_name"]] = ident.account_id
    return ids


def notice(text: str):
    return lambda locale: Reply(text=text, buttons=[Button("+1", "sv:1")], subject="sg:1")


async def test_announcement_and_member_notices_are_delivered(world: World, app: App) -> None:
    ids = await members_of_group(world)
    await app.outbox.announce(1, notice("Shipped: <dark mode> & more"))
    await app.outbox.notify(1, [ids["Bob"], ids["Carol"]], notice("Your idea shipped"))
    assert await worker(world).run_once() == 3
    assert world.last(GROUP)["text"] == "Shipped: <dark mode> & more"
    assert world.last(BOB["id"])["text"] == "Your idea shipped"
    assert (
        world.last(CAROL["id"])["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sv:1"
    )
    # A reply "+1" to the announcement in the group is routed to its subject.
    subject = await world.adapter.messages.subject_of(
        "telegram", str(GROUP), str(world.last(GROUP)["message_id"])
    )
    assert subject == "sg:1"


async def test_429_is_retried_after_retry_after(world: World, app: App, clock: FakeClock) -> None:
    ids = await members_of_group(world)
    world.fake.flood("sendMessage", retry_after=7)
    await app.outbox.notify(1, [ids["Bob"]], notice("Status changed"))
    w = worker(world)
    assert await w.run_once() == 0
    (row,) = await rows(app)
    assert row.delivered_at is None and row.failed_at is None
    assert row.next_attempt_at == clock.now() + timedelta(seconds=7)
    assert "retry" in row.last_error.lower()
    clock.advance(timedelta(seconds=6))
    assert await w.run_once() == 0  # not yet due
    clock.advance(timedelta(seconds=1))
    assert await w.run_once() == 1
    assert world.last(BOB["id"])["text"] == "Status changed"


async def test_interactive_reply_waits_out_a_short_flood(world: World) -> None:
    world.fake.flood("sendMessage", retry_after=1)
    await world.say(ALICE, '/suggest "Dark mode"')
    assert "#1 Dark mode" in world.last(GROUP)["text"]
    assert len(world.fake.calls_to("sendMessage")) == 2


async def test_member_who_never_started_the_bot_is_given_up_not_lost(
    world: World, app: App
) -> None:
    ids = await members_of_group(world)
    world.fake.unreachable.add(CAROL["id"])
    await app.outbox.notify(1, [ids["Carol"], ids["Bob"]], notice("Merged"))
    assert await worker(world).run_once() == 1
    carol, bob = await rows(app)
    assert carol.failed_at is not None and carol.delivered_at is None
    assert "initiate conversation" in carol.last_error
    assert bob.delivered_at is not None


async def test_role_changes_are_marked_delivered_without_a_message(world: World, app: App) -> None:
    ids = await members_of_group(world)
    before = len(world.fake.calls)
    await app.outbox.role_change(1, ids["Alice"], "tester", grant=True)
    assert await worker(world).run_once() == 1
    assert world.fake.calls[before:] == []
    (row,) = await rows(app)
    assert row.kind == "role" and row.delivered_at is not None


async def test_busy_group_is_paced_not_flooded(world: World, app: App, clock: FakeClock) -> None:
    await members_of_group(world)
    for n in range(25):
        await app.outbox.announce(1, notice(f"Post {n}"), dedup_key=f"post:{n}")
    w = worker(world)
    await w.run_once()
    times = world.time.slept
    assert len(world.fake.sent(GROUP)) == 20  # 20 a minute in a group; the rest wait
    assert all(later.delivered_at is None for later in (await rows(app))[20:])
    assert sum(times) < 60
    world.time.t += 60
    clock.advance(timedelta(seconds=60))
    await w.run_once()
    assert len(world.fake.sent(GROUP)) == 25


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([-1, -2, 1, 2, 3, 4, 5]), min_size=1, max_size=120))
def test_throttle_keeps_every_limit(chats: list[int]) -> None:
    import asyncio

    time = FakeMonotonic()
    throttle = SendThrottle(now=time.now, sleep=time.sleep)
    sent: list[tuple[float, int]] = []

    async def go() -> None:
        for chat in chats:
            await throttle.wait(chat)
            sent.append((time.t, chat))

    asyncio.run(go())
    for i, (t, chat) in enumerate(sent):
        window_all = [s for s in sent[: i + 1] if s[0] > t - 1.0]
        assert len(window_all) <= 30
        same = [s for s in sent[:i] if s[1] == chat]
        if same:
            assert t - same[-1][0] >= 1.0 - 1e-9
        if chat < 0:
            assert len([s for s in sent[: i + 1] if s[1] == chat and s[0] > t - 60.0]) <= 20
    # Never slower than needed: each wait ends the moment a limit allows it.
    assert all(s >= 0 for s in time.slept)
