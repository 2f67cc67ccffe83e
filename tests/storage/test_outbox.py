"""Notifications are stored first and delivered with retries: nothing is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.outbox import DeliveryFailed, DeliveryRetry, OutboxWorker
from bot.core.reply import Reply
from storage.core.outbox import NewMessage, OutboxItem
from tests.helpers import member


async def test_member_notices_render_in_their_language_and_skip_opt_outs(app: App) -> None:
    en, zh, quiet = await member(app, "en"), await member(app, "zh"), await member(app, "quiet")
    await app.identity.set_account(zh.member.account_id, locale="zh_CN")
    await app.identity.set_account(quiet.member.account_id, notify=False)
    ids = [en.member.account_id, zh.member.account_id, quiet.member.account_id]

    def render(locale: str) -> Reply:
        return Reply(text=app.translator(locale, "role.owner"))

    assert await app.outbox.notify(en.community.id, ids, render) == 2
    got: list[OutboxItem] = []

    async def deliver(item: OutboxItem) -> None:
        got.append(item)

    assert await OutboxWorker(app.outbox, "console", deliver).run_once() == 2
    assert {(i.target, i.payload["text"]) for i in got} == {("en", "owner"), ("zh", "群主")}
    assert (
        await app.outbox.notify(en.community.id, [quiet.member.account_id], render, force=True) == 1
    )


async def test_failures_are_retried_until_delivered(app: App, clock: FakeClock) -> None:
    ctx = await member(app, "a")
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="hello"), dedup_key="hello")
    assert (
        await app.outbox.announce(
            ctx.community.id, lambda loc: Reply(text="hello"), dedup_key="hello"
        )
        == 0
    )
    attempts: list[int] = []

    async def flaky(item: OutboxItem) -> None:
        attempts.append(item.attempts)
        if len(attempts) == 1:
            raise ConnectionError("platform down")
        if len(attempts) == 2:
            raise DeliveryRetry(30)

    worker = OutboxWorker(app.outbox, "console", flaky)
    assert await worker.run_once() == 0
    assert await worker.run_once() == 0  # not due yet: back-off of 2 s
    clock.advance(timedelta(seconds=2))
    assert await worker.run_once() == 0  # 429: wait 30 s
    clock.advance(timedelta(seconds=29))
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 1
    assert attempts == [0, 1, 2]
    assert await app.outbox.repo.pending_count() == 0


async def test_permanent_failure_is_kept_not_retried(app: App, clock: FakeClock) -> None:
    ctx = await member(app, "a")
    await app.outbox.notify(ctx.community.id, [ctx.member.account_id], lambda loc: Reply(text="hi"))

    async def blocked(item: OutboxItem) -> None:
        raise DeliveryFailed("bot was blocked by the user")

    worker = OutboxWorker(app.outbox, "console", blocked)
    await worker.run_once()
    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0
    assert await app.outbox.repo.pending_count() == 0


async def test_a_claimed_message_is_not_claimed_twice(app: App, clock: FakeClock) -> None:
    ctx = await member(app, "a")
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="once"))
    repo = app.outbox.repo
    first = await repo.claim_due("console", clock.now())
    second = await repo.claim_due("console", clock.now())
    assert len(first) == 1 and second == []
    clock.advance(timedelta(minutes=3))  # the lease ran out: the worker died, someone retries
    assert len(await repo.claim_due("console", clock.now())) == 1


async def test_large_batches_are_stored_in_steps_and_only_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.core.outbox as core_outbox
    import storage.core.outbox as store

    monkeypatch.setattr(store, "ADD_BATCH", 3)
    monkeypatch.setattr(core_outbox, "NOTIFY_CHUNK", 2)
    members = [await member(app, f"m{i}") for i in range(7)]
    cid = members[0].community.id
    ids = [m.member.account_id for m in members]

    def render(locale: str) -> Reply:
        return Reply(text="claims are open")

    assert await app.outbox.notify(cid, ids + ids[:2], render, dedup_key="drop:1:nudge") == 7
    assert await app.outbox.notify(cid, ids, render, dedup_key="drop:1:nudge") == 0
    now = app.clock.now()
    repo = app.outbox.repo
    keyed = [
        NewMessage(cid, "console", "member", str(i), payload={"n": i}, dedup_key=f"k{i % 4}")
        for i in range(8)
    ]
    plain = [NewMessage(cid, "console", "member", "p", payload={"n": i}) for i in range(4)]
    assert await repo.add(keyed + plain, now) == 4 + 4  # k0..k3 once, every unkeyed one
    assert await repo.add(keyed, now) == 0
    got: list[OutboxItem] = []

    async def deliver(item: OutboxItem) -> None:
        got.append(item)

    worker = OutboxWorker(app.outbox, "console", deliver, batch=100)
    assert await worker.run_once() == 7 + 8
    assert sorted(i.payload["n"] for i in got if i.target != "p" and "n" in i.payload) == [
        0,
        1,
        2,
        3,
    ]
