"""The inbox and the answers to presses: an update is handled once however often it arrives,
what was stored and not handled is handled at the next start, and a press that waits past its
budget is answered "received" at once, its result following."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.adapters.telegram.polling import replay
from devtools.bench.telegram import run_adapter
from devtools.servers.telegram_api import callback_update
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
