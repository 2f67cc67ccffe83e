"""Replies that are posts survive an outage of the Bot API: a 429 that outlasts the interactive
wait, a 502/503/504 or a lost connection parks the reply in the outbox, whose worker delivers it
once Telegram answers again: exactly once, never also sent directly. Through the real adapter
against the local Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.outbox import PARTS_SENT
from bot.core.reply import Reply
from cogs.suggestions.service import SuggestionService
from storage.core.schema import outbox
from tests.telegram.world import ADMIN, ALICE, CAROL, GROUP, World, worker

STATUS_CARD = "📌 #1"


async def rows(app: App) -> list[Any]:
    async with app.engine.connect() as conn:
        return list((await conn.execute(select(outbox).order_by(outbox.c.id))).all())


async def parked_posts(app: App) -> list[Any]:
    """The parked replies (notices to voters are outbox messages of their own, kind member)."""
    return [r for r in await rows(app) if r.target == str(GROUP)]


def cards(world: World, marker: str) -> list[dict[str, Any]]:
    return [m for m in world.fake.sent(GROUP) if marker in (m.get("text") or "")]


async def a_suggestion(world: World) -> None:
    await world.say(ALICE, '/suggest "Dark mode"')
    assert len(cards(world, "#1 Dark mode")) == 1


async def deliver_until_sent(world: World, clock: FakeClock, rounds: int = 20) -> int:
    """Run the worker as its loop would, moving the clock to each retry; the messages sent."""
    w, sent = worker(world), 0
    for _ in range(rounds):
        sent += await w.run_once()
        pending = [r for r in await rows(world.app) if not (r.delivered_at or r.failed_at)]
        if not pending:
            return sent
        step = max(timedelta(0), min(r.next_attempt_at for r in pending) - clock.now())
        clock.advance(step)
        world.time.t += step.total_seconds()  # the sending limits' clock moves on too
    raise AssertionError("the outbox never emptied")


async def test_status_card_after_three_429s_is_delivered_once_later(
    world: World, app: App, clock: FakeClock
) -> None:
    await a_suggestion(world)
    world.fake.flood("sendMessage", retry_after=2, times=3)
    calls = len(world.fake.calls_to("sendMessage"))
    await world.say(ADMIN, "/status 1 planned")
    # Two waits of 2 s, a third 429: the card is kept, not dropped.
    assert len(world.fake.calls_to("sendMessage")) == calls + 3
    assert cards(world, STATUS_CARD) == []
    (row,) = await parked_posts(app)
    assert row.kind == "channel" and row.payload["subject"] == "sg:1"
    assert world.adapter.sender.parked == 1

    await deliver_until_sent(world, clock)
    (card,) = cards(world, STATUS_CARD)
    assert "#1 Dark mode" in card["text"]
    assert card["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sv:1"
    # What it is about is remembered: a "+1" reply to it is a vote.
    subject = await world.adapter.messages.subject_of(
        "telegram", str(GROUP), str(card["message_id"])
    )
    assert subject == "sg:1"
    await deliver_until_sent(world, clock)  # nothing more to send: never twice
    assert len(cards(world, STATUS_CARD)) == 1


async def test_status_card_during_502s_is_delivered_once_the_outage_ends(
    world: World, app: App, clock: FakeClock
) -> None:
    await a_suggestion(world)
    world.fake.fail("sendMessage", 502, times=4)
    await world.say(ADMIN, "/status 1 planned")
    assert len(await parked_posts(app)) == 1 and cards(world, STATUS_CARD) == []
    # The worker meets the rest of the outage (the voter's notice meets it too), backs off,
    # then delivers.
    w = worker(world)
    assert await w.run_once() == 0
    (row,) = await parked_posts(app)
    assert row.attempts == 1 and "Bad Gateway" in row.last_error
    assert row.next_attempt_at > clock.now()
    await deliver_until_sent(world, clock)
    assert world.fake.calls_to("sendMessage")  # the outage is over
    assert len(cards(world, STATUS_CARD)) == 1
    (row,) = await parked_posts(app)
    assert row.delivered_at is not None and row.attempts >= 1


async def test_suggestion_card_during_a_long_flood_and_a_503(
    world: World, app: App, clock: FakeClock
) -> None:
    # A 429 longer than an interactive reply waits: kept at once.
    world.fake.flood("sendMessage", retry_after=120)
    await world.say(CAROL, '/suggest "Offline maps"')
    world.fake.fail("sendMessage", 503)
    await world.say(ALICE, '/suggest "Bigger fonts"')
    assert len(await parked_posts(app)) == 2 and world.fake.sent(GROUP) == []
    await deliver_until_sent(world, clock)
    assert len(cards(world, "#1 Offline maps")) == 1
    assert len(cards(world, "#2 Bigger fonts")) == 1


async def test_the_rest_of_a_reply_cut_by_the_outage_is_sent_not_the_start_again(
    world: World, app: App, clock: FakeClock
) -> None:
    await world.say(ALICE, "/help")  # the community exists
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    # A chart with more text than a caption holds: a photo, then a message.
    reply = Reply(title="Weekly report", text="x" * 2000, image=png.getvalue())
    world.fake.fail("sendMessage", 502)
    sent = await world.adapter.sender.send(GROUP, reply, 1)
    assert len(sent) == 1 and "photo" in world.fake.sent(GROUP)[-1]
    (row,) = await parked_posts(app)
    assert row.payload[PARTS_SENT] == 1
    await deliver_until_sent(world, clock)
    photos = [m for m in world.fake.sent(GROUP) if "photo" in m]
    texts = [m for m in world.fake.sent(GROUP) if (m.get("text") or "").startswith("xxx")]
    assert len(photos) == 1 and len(texts) == 1


async def test_a_private_reply_is_kept_too_but_not_a_reply_without_a_community(
    world: World, app: App, clock: FakeClock
) -> None:
    await world.dm(ALICE, "/start")  # Alice opened the private chat
    await world.say(ALICE, "/help")
    world.fake.fail("sendMessage", 504)
    await world.say(ALICE, "/notify off")  # private answer, sent to her private chat
    (row,) = [r for r in await rows(app) if r.target == str(ALICE["id"])]
    assert row.kind == "member"
    await deliver_until_sent(world, clock)
    assert len([t for t in world.texts(ALICE["id"]) if "otif" in t]) >= 1


PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_ideas = itertools.count(1)
# What Telegram answers a send with, one answer after the other: 429s the interactive reply
# waits out (2 s) or not (60 s), and the server errors of an outage.
ANSWERS = st.lists(st.sampled_from(["429", "429-long", 502, 503, 504]), max_size=7)


@PROPERTY
@given(outage=ANSWERS)
async def test_whatever_the_outage_a_status_card_is_shown_exactly_once(
    world: World, app: App, clock: FakeClock, outage: list[int | str]
) -> None:
    world.fake.recover()
    await world.say(ALICE, "/help")  # the community and Alice exist
    alice = await app.identity.account_for("telegram", str(ALICE["id"]), "", clock.now())
    sub = await app.services.get(SuggestionService).submit(
        1, alice.account_id, f"Idea {next(_ideas)}", "", None, force=True
    )
    assert sub.posted is not None
    sid = sub.posted.id
    for answer in outage:
        if isinstance(answer, int):
            world.fake.fail("sendMessage", answer)
        else:
            world.fake.flood("sendMessage", retry_after=60 if answer == "429-long" else 2)
    await world.say(ADMIN, f"/status {sid} planned")
    await deliver_until_sent(world, clock, rounds=40)
    assert len(cards(world, f"📌 #{sid}:")) == 1
    assert not [r for r in await rows(app) if not r.delivered_at]  # none given up, none left
