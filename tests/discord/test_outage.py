"""Public replies survive an outage of Discord's API: a response or follow-up that meets a 429
past the waits, a 5xx or no answer is kept in the outbox and posted in the interaction's channel
once Discord answers again, exactly once; the member is told privately that it follows. Private
answers are not kept. Through the real adapter against the local Discord server, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.adapters.discord import Tuning
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import CommandSpec
from bot.core.context import Context
from bot.core.reply import Reply
from devtools.servers.discord_api import GENERAL_ID, FakeDiscord, Interaction
from storage.core.schema import outbox
from storage.platform.messages import MessagesRepo
from tests.discord.conftest import FAST, Bot, StartBot, eventually, is_ephemeral, text_of
from tests.discord.test_outbox import member

# Calm: the reply is the interaction's one response. Deferred: acknowledged first, then a
# follow-up (a budget of 0 defers every interaction).
CALM = Tuning(**{**FAST.__dict__, "ack_budget": 30.0})
DEFERRED = Tuning(**{**FAST.__dict__, "ack_budget": 0.0})
STATUS_CARD = "📌 #1"
WEBHOOK_POST = r"/webhooks/\d+/[^/]+"
CHANNEL_POST = rf"/channels/{GENERAL_ID}/messages"
NOTICE = "Discord is not taking messages right now"


async def rows(app: App) -> list[dict[str, Any]]:
    async with app.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(outbox).order_by(outbox.c.id))]


async def posts(app: App) -> list[dict[str, Any]]:
    """Parked replies (channel messages to the interaction's channel)."""
    return [r for r in await rows(app) if r["kind"] == "channel" and r["target"] == str(GENERAL_ID)]


def shown(fake: FakeDiscord, marker: str) -> list[dict[str, Any]]:
    """Public messages in #general that contain `marker`."""
    return [
        m for m in fake.channel_messages(GENERAL_ID) if marker in text_of(m) and not is_ephemeral(m)
    ]


async def a_suggestion(bot: Bot, fake: FakeDiscord) -> None:
    opened = await bot.slash(fake.owner, "suggest")
    await bot.run(fake.submit(fake.owner, opened.modal or {}, {"title": "Dark mode"}))
    assert len(shown(fake, "#1 Dark mode")) == 1


async def after_the_outage(app: App, fake: FakeDiscord, clock: FakeClock) -> None:
    """The worker posts what was kept, riding out what is left of the outage (its retries are
    due on the app's clock, moved forward here)."""

    async def settled() -> bool:
        pending = [r for r in await rows(app) if not (r["delivered_at"] or r["failed_at"])]
        if pending:
            clock.advance(timedelta(seconds=30))
            app.outbox.wake.set()
        return not pending

    await eventually(settled, within=20)


def notice_shown(answer: Interaction) -> bool:
    return any(NOTICE in text_of(m) and is_ephemeral(m) for m in answer.messages)


async def test_status_card_whose_response_fails_is_posted_once_later(
    start_bot: StartBot, fake: FakeDiscord, app: App, clock: FakeClock
) -> None:
    bot = await start_bot(CALM)
    await a_suggestion(bot, fake)
    fake.fail("POST", r"/interactions/\d+/[^/]+/callback", 502)
    fake.fail("POST", CHANNEL_POST, 503, times=2)  # the outage lasts a little longer
    answer = await bot.slash(fake.owner, "status", id="1", status="planned")
    # The interaction is answered privately in place of the card, which is kept for later.
    assert notice_shown(answer) and answer.ack_type == 4

    async def kept() -> bool:
        return len(await posts(app)) == 1

    await eventually(kept)
    (row,) = await posts(app)
    assert row["payload"]["subject"] == "sg:1"
    await after_the_outage(app, fake, clock)
    (card,) = shown(fake, STATUS_CARD)
    assert "#1 Dark mode" in text_of(card)
    # What it is about is remembered: replies ("+1") to it route to the suggestion.
    refs = MessagesRepo(app.engine)
    assert await refs.subject_of("discord", str(GENERAL_ID), card["id"]) == "sg:1"
    calls = [c.status for c in fake.calls_to("POST", CHANNEL_POST)]
    assert calls == [503, 503, 200]


async def test_status_card_whose_follow_up_meets_429s_is_posted_once_later(
    start_bot: StartBot, fake: FakeDiscord, app: App, clock: FakeClock
) -> None:
    bot = await start_bot(DEFERRED)
    await a_suggestion(bot, fake)
    before = len(shown(fake, "#1"))
    # Five 429s: every wait the follow-up is given, then it is kept.
    fake.fail("POST", WEBHOOK_POST, 429, times=5, retry_after=0.01)
    answer = await bot.slash(fake.owner, "status", id="1", status="planned")
    assert answer.deferred and notice_shown(answer)
    assert not any(STATUS_CARD in text_of(m) for m in answer.messages)

    async def kept() -> bool:
        return len(await posts(app)) == 1

    await eventually(kept)
    await after_the_outage(app, fake, clock)
    assert len(shown(fake, STATUS_CARD)) == 1
    assert len(shown(fake, "#1")) == before + 1
    assert len(await posts(app)) == 1


async def test_suggestion_card_whose_follow_up_meets_502s_is_posted_once_later(
    start_bot: StartBot, fake: FakeDiscord, app: App, clock: FakeClock
) -> None:
    bot = await start_bot(DEFERRED)
    opened = await bot.slash(fake.owner, "suggest")
    # The follow-up and the private notice both meet the outage: the placeholder stays, the
    # card is posted when Discord answers again.
    fake.fail("POST", WEBHOOK_POST, 502, times=2)
    fake.fail("POST", CHANNEL_POST, 502)  # discord.py waits a second, then tries once more
    fake.fail("POST", CHANNEL_POST, 503)
    submitted = await fake.send(fake.submit(fake.owner, opened.modal or {}, {"title": "Offline"}))

    async def kept() -> bool:
        return len(await posts(app)) == 1

    await eventually(kept)
    assert submitted.deferred and shown(fake, "#1 Offline") == []
    await after_the_outage(app, fake, clock)
    assert len(shown(fake, "#1 Offline")) == 1


async def test_the_placeholder_says_the_post_follows_when_its_removal_fails(
    start_bot: StartBot, fake: FakeDiscord, app: App, clock: FakeClock
) -> None:
    bot = await start_bot(DEFERRED)
    await a_suggestion(bot, fake)
    fake.fail("DELETE", r"/webhooks/\d+/[^/]+/messages/@original", 503)
    answer = await bot.slash(fake.owner, "status", id="1", status="planned")
    # The private "thinking…" placeholder became the notice; the card was not sent as a
    # follow-up (it would have replaced the private placeholder), it is kept.
    assert notice_shown(answer)
    assert not any(STATUS_CARD in text_of(m) for m in answer.messages)
    await after_the_outage(app, fake, clock)
    assert len(shown(fake, STATUS_CARD)) == 1


async def test_a_private_answer_is_not_kept(
    start_bot: StartBot, fake: FakeDiscord, app: App
) -> None:
    bot = await start_bot(DEFERRED)
    fake.fail("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", 502)
    answer = await fake.send(fake.slash(fake.owner, "status", id="9", status="planned"))

    async def refused() -> bool:
        return bool(fake.calls_to("PATCH", r"/webhooks/\d+/[^/]+/messages/@original"))

    await eventually(refused)
    again = await bot.slash(fake.owner, "status", id="9", status="planned")  # after the outage
    assert is_ephemeral(again.message)
    assert answer.deferred and await posts(app) == [] and shown(fake, "#9") == []


async def test_a_post_whose_deferral_fails_after_the_work_started_is_kept(
    start_bot: StartBot, fake: FakeDiscord, app: App, clock: FakeClock
) -> None:
    release = asyncio.Event()

    async def slow(ctx: Context) -> Reply:
        await release.wait()
        return Reply(text="Release 1.2 shipped")

    app.commands.add(CommandSpec("slowpost", "help.help", slow))
    await start_bot(Tuning(**{**FAST.__dict__, "ack_budget": 0.2}))
    # The work started at once (calm); past the budget the deferral meets a 502. The work's
    # effect is committed: its post must not be lost with the interaction.
    fake.fail("POST", r"/interactions/\d+/[^/]+/callback", 502)
    fake.fail("POST", CHANNEL_POST, 503)
    pending = await fake.send(fake.slash(fake.owner, "slowpost"))
    await fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback")
    release.set()

    async def kept() -> bool:
        return len(await posts(app)) == 1

    await eventually(kept)
    assert pending.ack_type is None
    await after_the_outage(app, fake, clock)
    assert len(shown(fake, "Release 1.2 shipped")) == 1


async def test_a_public_answer_to_a_reply_is_kept_when_discord_fails(
    bot: Bot, fake: FakeDiscord, app: App, clock: FakeClock
) -> None:
    async def noted(ctx: Context, args: list[str], text: str) -> Reply:
        return Reply(text=f"Noted publicly: {text}")

    app.actions.add_reply_hook("tp", noted)
    ctx = await member(app, fake.owner)
    await app.outbox.announce(ctx.community.id, lambda loc: Reply(text="Tell us", subject="tp:1"))
    (posted,) = await fake.wait_for("POST", CHANNEL_POST)
    refs = MessagesRepo(app.engine)
    message = fake.channel_messages(GENERAL_ID)[-1]

    async def remembered() -> bool:
        return await refs.subject_of("discord", str(GENERAL_ID), message["id"]) == "tp:1"

    await eventually(remembered)
    fake.fail("POST", CHANNEL_POST, 503, times=2)  # the answer, and the worker's first try
    await fake.reply(fake.add_member("Bob"), message, "me too")

    async def kept() -> bool:
        return any("Noted publicly" in r["payload"]["text"] for r in await posts(app))

    await eventually(kept)
    await after_the_outage(app, fake, clock)
    assert len(shown(fake, "Noted publicly: me too")) == 1 and posted.status == 200
