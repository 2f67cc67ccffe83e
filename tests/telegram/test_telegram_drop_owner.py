"""The owner of a Telegram group gets a drop's card once: created (opening at once) or edited
in the group, the card is the group's message, and the owner's private answer is one line."""

from __future__ import annotations

from bot.core.app import App
from bot.core.clock import FakeClock
from tests.telegram.world import GROUP, OWNER, World, worker


def card_texts(texts: list[str]) -> list[str]:
    return [t for t in texts if "Drop #1: Phone" in t]


async def test_the_owner_gets_the_card_once(world: World, app: App, clock: FakeClock) -> None:
    await world.say(OWNER, '/drop create Phone 3 "2026-11-20 12:00" confirm=36h Limited')
    await worker(world).run_once()
    (card,) = card_texts(world.texts(GROUP))
    assert "Time to confirm a win: 1d12h" in card
    private = world.texts(OWNER["id"])
    assert card_texts(private) == [] and "posted for everyone" in private[-1]

    await world.say(OWNER, '/drop edit 1 description="Now in blue"')
    await worker(world).run_once()
    answer = world.texts(OWNER["id"])[-1]
    assert "was updated" in answer and "Its card for everyone shows the change." in answer
    assert card_texts(world.texts(OWNER["id"])) == [] and "Reserved" not in answer
    # The group's card itself was edited in place.
    (message,) = [m for m in world.fake.sent(GROUP) if "Drop #1: Phone" in (m.get("text") or "")]
    (edit,) = world.fake.edits(GROUP, message["message_id"])
    assert "Now in blue" in edit.params["text"]
