"""The inbox and the answers to presses: an update is handled once however often it arrives,
what was stored and not handled is handled at the next start, a press that waits past its
budget is answered "received" at once, its result following, and a press is marked handled
only once its answer is out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.http1 import Http1, HttpError
from bot.adapters.telegram.api import LeanApi, answer_params
from bot.adapters.telegram.polling import replay
from devtools.bench.telegram import run_adapter
from devtools.bench.telegram_claims import claim_outcome, seed_claim_world
from devtools.servers.telegram_api import BOT_USER, callback_update, group, user
from storage.drops.schema import wins
from storage.platform.telegram_inbox import TelegramInboxRepo
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, World


async def _card(world: World) -> dict[str, Any]:
    await world.say(ALICE, '/suggest "Dark mode"')
    return world.last(GROUP)


async def test_a_stored_update_not_handled_is_handled_at_the_next_start(world: World) -> None:
    card = await _card(world)
    press = callback_update(CAROL, card, "sv:1")
    repo = TelegramInboxRepo(world.app.engine)
    assert await repo.store([press], world.app.clock.now()) == {press["update_id"]}
    # ... and the process died before handling it. At the next start:
    assert await replay(world.adapter.inbox, world.adapter.dispatch, world.adapter.room) == 1
    await world.adapter.idle()
    await world.adapter.inbox.close()
    assert "Votes now: 2" in world.answer(press["callback_query"]["id"])["text"]
    assert await repo.unhandled() == []
    # Telegram sending it again changes nothing.
    assert await world.adapter.inbox.store([press]) == []


async def test_the_same_update_twice_in_one_batch_is_handled_once(world: World) -> None:
    card = await _card(world)
    press = callback_update(CAROL, card, "sv:1")
    new = await world.adapter.inbox.store([press, press])
    assert len(new) == 1
    for raw in new:
        world.adapter.dispatch(raw)
    await world.adapter.idle()
    assert world.answer(press["callback_query"]["id"])["text"].endswith("Votes now: 2.")


async def test_the_start_replay_does_not_handle_again_what_just_arrived(world: World) -> None:
    """At a start the replay of the inbox may read an update the webhook (or the poller) has
    just stored and handed over, still under way: it is handled once."""
    card = await _card(world)
    press = callback_update(CAROL, card, "sv:1")
    for raw in await world.adapter.inbox.store([press]):
        world.adapter.dispatch(raw)  # arrived, under way, not yet marked handled
    assert await replay(world.adapter.inbox, world.adapter.dispatch, world.adapter.room) == 1
    await world.adapter.idle()
    await world.adapter.inbox.close()
    assert len(world.fake.calls_to("answerCallbackQuery")) == 1
    assert world.answer(press["callback_query"]["id"])["text"].endswith("Votes now: 2.")


async def test_a_press_past_its_budget_is_answered_received_then_told(world: World) -> None:
    card = await _card(world)
    world.adapter.answer_budget = 0.0  # every press is late
    vote = callback_update(BOB, card, "sv:1")
    claim = callback_update(CAROL, card, "dc:999")  # no such drop: an error, as a toast
    for raw in await world.adapter.inbox.store([vote, claim]):
        world.adapter.dispatch(raw)
    await world.adapter.idle()
    received = world.app.translator("zh-hans", "telegram.busy")
    assert world.answer(vote["callback_query"]["id"])["text"] == received  # answered once
    assert world.answer(claim["callback_query"]["id"])["text"] == world.app.translator(
        "en", "telegram.busy"
    )
    # The vote counted, and its button shows it; the error follows as a private message.
    assert "(2)" in str(world.fake.messages[(GROUP, card["message_id"])].get("reply_markup"))
    assert world.fake.sent(BOB["id"]) == []
    assert world.fake.sent(CAROL["id"])


async def test_a_press_whose_answer_may_be_lost_is_handled_again_and_answered_as_stored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = 700_000_000
    drop_id = await seed_claim_world(
        world.app, group_id=GROUP, first_member=first, pressers=1, quota=1, waitlist=0
    )
    fan = user(first, "Fan 0")
    card = {"message_id": 1, "date": 1, "chat": group(GROUP, "Fans"), "from": BOT_USER}
    press = callback_update(fan, card, f"dc:{drop_id}")
    query_id = str(press["callback_query"]["id"])
    request = Http1.request
    lost: list[str] = []

    async def drop_the_first_answer(
        http: Http1, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes]:
        if path == "/answerCallbackQuery" and not lost:
            lost.append(path)  # the connection breaks: did Telegram get it? Not known.
            raise HttpError("connection lost")
        return await request(http, method, path, body)

    monkeypatch.setattr(Http1, "request", drop_the_first_answer)
    repo = TelegramInboxRepo(world.app.engine)
    for raw in await world.adapter.inbox.store([press]):
        world.adapter.dispatch(raw)
    await world.adapter.idle()
    await world.adapter.inbox.close()
    # The claim is won and its code sent, but the answer is not known to be out: not handled.
    assert lost and world.fake.calls_to("answerCallbackQuery") == []
    assert [int(u["update_id"]) for u in await repo.unhandled()] == [press["update_id"]]
    assert await claim_outcome(world.app.engine, drop_id) == {"winners": 1, "units_taken": 1}
    # At the next start it is handled again and answered from what is stored: won, once.
    assert await replay(world.adapter.inbox, world.adapter.dispatch, world.adapter.room) == 1
    await world.adapter.idle()
    await world.adapter.inbox.close()
    assert world.answer(query_id)
    assert await repo.unhandled() == []
    assert await claim_outcome(world.app.engine, drop_id) == {"winners": 1, "units_taken": 1}
    async with world.app.engine.connect() as conn:
        (code,) = (await conn.execute(select(wins.c.code))).scalars().all()
    # (The win's own message waits in the outbox; no worker runs here.)
    (again,) = world.texts(fan["id"])
    assert code in again and "already" in again


async def test_claim_burst_through_the_adapter() -> None:
    result = await run_adapter(300, 16, 100, "inline", scenario="claim", quota=30, waitlist=20)
    assert result["winners"] == 30
    assert result["oversold"] == 0
    assert result["answered"] == 300


async def test_handled_updates_are_forgotten_after_a_while_unhandled_ones_never(
    world: World,
) -> None:
    repo = TelegramInboxRepo(world.app.engine)
    now = world.app.clock.now()
    await repo.store([{"update_id": 1}, {"update_id": 2}], now)
    await repo.mark_handled([1], now)
    assert await repo.forget_handled_before(now) == 0  # not old enough yet
    assert await repo.forget_handled_before(now + timedelta(days=3)) == 1
    assert await repo.unhandled() == [{"update_id": 2}]
    assert await repo.counts() == (1, 0)


async def test_an_answer_telegram_refused_is_out_and_one_cut_off_is_not(world: World) -> None:
    """The answer's request: Telegram's reply, even a refusal ("query is too old"), means the
    answer is settled; a request cut off on its way (whether Telegram got it is unknown) is not,
    so its update is handled again at the next start."""
    api = world.adapter.api
    assert await api.answer_callback(answer_params("q-1", "Voted"))
    assert await api.answer_callback(answer_params("q-1", "Voted"))  # refused: answered before
    assert "q-1" in world.fake.answered_at
    nowhere = LeanApi("http://127.0.0.1:9/bot123:x")  # nothing listens there
    try:
        assert not await nowhere.answer_callback(answer_params("q-2"))
    finally:
        await nowhere.close()
