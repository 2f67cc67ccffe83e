"""Moderation on Telegram: the review queue's inline keyboard (approve, a reason menu), the
author told, and a muted member's vote refused with the reason."""

from __future__ import annotations

from bot.core.app import App
from tests.telegram.world import ADMIN, ALICE, CAROL, GROUP, OWNER, World, worker


def keyboard(message: dict) -> list[str]:
    return [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_review_queue_buttons_and_the_author_told(world: World, app: App) -> None:
    await world.say(OWNER, "/settings review_queue on")
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    assert "waits for an admin's review" in world.last(ALICE["id"])["text"]
    await world.say(CAROL, "/suggest Cheap followers")
    assert not [t for t in world.texts(GROUP) if "#1 Dark mode" in t]  # nothing posted yet

    await world.say(ADMIN, "/review")
    queue = world.last(ADMIN["id"])  # privately, to the admin
    assert "Review queue: 2 waiting" in queue["text"]
    assert keyboard(queue) == ["rv:a:1", "rr:1", "rv:a:2", "rr:2"]

    qid = await world.press(ADMIN, queue, "rv:a:1")
    assert "posted as #1 Dark mode" in world.answer(qid)["text"]
    await worker(world).run_once()
    card = world.last(GROUP)
    assert "#1 Dark mode" in card["text"] and keyboard(card) == ["sv:1"]
    assert any("approved and posted: #1 Dark mode" in t for t in world.texts(ALICE["id"]))

    await world.press(ADMIN, queue, "rr:2")
    menu = world.last(ADMIN["id"])
    assert keyboard(menu) == ["rv:x:2:spam", "rv:x:2:offtopic", "rv:x:2:duplicate", "rv:x:2:rules"]
    await world.press(ADMIN, menu, "rv:x:2:spam")
    await worker(world).run_once()
    assert any("Reason: spam or advertising" in t for t in world.texts(CAROL["id"]))

    qid = await world.press(CAROL, queue, "rv:a:2")  # a fan pressing an admin's button
    assert world.answer(qid)["text"] == "This needs the admin role."


async def test_a_muted_member_is_told_why_a_vote_is_refused(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode"')
    card = world.last(GROUP)
    await world.say(CAROL, "/help")  # Carol is known in the group
    await world.say(ADMIN, '/mute Carol 1d "flooding the group"')
    assert "Carol is muted until" in world.last(ADMIN["id"])["text"]
    qid = await world.press(CAROL, card, "sv:1")
    answer = world.answer(qid)
    assert answer["show_alert"] == "true"
    assert "You are muted here" in answer["text"] and "flooding the group" in answer["text"]
    await world.say(CAROL, "+1", reply_to=card)
    assert "You are muted here" in world.last(CAROL["id"])["text"]
    await world.say(ADMIN, "/audit")
    assert "/mute member=Carol duration=1d" in world.last(ADMIN["id"])["text"]
