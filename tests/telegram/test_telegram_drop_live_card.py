"""A drop's card in the group is its live message: the live count and the owner's edits change
it in place (`editMessageText`, keyboard kept), never as a new message; a 429 is waited out;
a card Telegram no longer has is sent again and edited from then on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.app import App
from bot.core.clock import FakeClock
from cogs.drops.service import DropService
from tests.telegram.world import ALICE, BOB, CAROL, GROUP, OWNER, World, worker


async def tick(app: App, clock: FakeClock, seconds: float = 61) -> None:
    """Time passes (past `drop_status_seconds`) and the drops' due work runs."""
    clock.advance(timedelta(seconds=seconds))
    kick = app.services.get(DropService).kick
    assert kick is not None
    await kick()


def cards(world: World) -> list[dict[str, Any]]:
    """The drop's messages in the group (its card)."""
    return [m for m in world.fake.sent(GROUP) if "Drop #1: Phone" in (m.get("text") or "")]


def keyboard(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row]


async def test_live_count_and_edits_change_the_card_in_place(
    world: World, app: App, clock: FakeClock
) -> None:
    await world.say(OWNER, '/drop create Phone 3 "2026-11-20 12:00" Limited edition')
    w = worker(world)
    await w.run_once()
    (card,) = cards(world)
    assert "Reserved: 0" in card["text"] and keyboard(card) == ["dr:1"]

    await world.press(ALICE, card, "dr:1")
    await world.press(BOB, card, "dr:1")
    await tick(app, clock)
    assert await w.run_once() == 1
    (now,) = cards(world)
    assert now["message_id"] == card["message_id"]
    assert "Reserved: 2" in now["text"] and "Limited edition" in now["text"]
    assert keyboard(now) == ["dr:1"]
    (edit,) = world.fake.edits(GROUP, card["message_id"])
    assert edit.method == "editMessageText"

    # The owner's edit after opening shows at once, on the same message; a structural one is
    # refused and changes nothing.
    await world.say(OWNER, '/drop edit 1 description="Now in blue"')
    print("OWN", world.texts(OWNER["id"])[-3:], world.texts(GROUP)[-2:])
    await world.say(OWNER, "/drop edit 1 quota=9")
    assert "quota can no longer change" in world.last(OWNER["id"])["text"]
    await world.say(ALICE, "/drop edit 1 description=mine")
    assert "owner" in world.last(ALICE["id"])["text"].lower()
    assert await w.run_once() == 1
    (now,) = cards(world)
    assert "Now in blue" in now["text"] and "Reserved: 2" in now["text"]
    # The same state again: Telegram's "message is not modified" is no failure.
    await world.say(OWNER, '/drop edit 1 description="Now in blue"')
    assert await w.run_once() == 1

    # Flood control on the edit: the update waits for retry_after, then shows the state of then.
    world.fake.flood("editMessageText", retry_after=7)
    await world.press(CAROL, card, "dr:1")
    await tick(app, clock)
    assert await w.run_once() == 0
    clock.advance(timedelta(seconds=7))
    assert await w.run_once() == 1
    (now,) = cards(world)
    assert "Reserved: 3" in now["text"] and now["message_id"] == card["message_id"]

    # Telegram no longer has the card (deleted): the next update sends it again, and later
    # updates edit that one.
    del world.fake.messages[(GROUP, card["message_id"])]
    await world.say(OWNER, '/drop edit 1 description="Last call"')
    assert await w.run_once() == 1
    (again,) = cards(world)
    assert again["message_id"] != card["message_id"] and "Last call" in again["text"]
    await world.say(OWNER, '/drop edit 1 description="Really the last call"')
    assert await w.run_once() == 1
    (again2,) = cards(world)
    assert again2["message_id"] == again["message_id"]
    assert "Really the last call" in again2["text"]
    assert [m["message_id"] for m in cards(world)] == [again["message_id"]]
