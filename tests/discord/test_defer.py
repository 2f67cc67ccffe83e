"""Every interaction is acknowledged within Discord's deadline: slow work is deferred, then
followed up; a burst beyond the concurrency limit is deferred at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.adapters.discord import Tuning
from bot.adapters.discord.acks import Arrival
from bot.adapters.discord.respond import QUICK_AT_ONCE, Incoming, Outcome, Responder
from bot.core.actions import ActionSpec
from bot.core.app import App
from bot.core.commands import CommandSpec, Param
from bot.core.context import Context
from bot.core.reply import Button, Reply
from devtools.servers.discord_api import FakeDiscord
from devtools.servers.discord_api.world import Interaction
from tests.discord.conftest import StartBot, eventually, is_ephemeral, suggest, text_of

SLOW = Tuning(ack_budget=0.05, max_concurrency=8, guild_ready_timeout=0.05)


class Gate:
    """Handlers that wait until the test lets them finish."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = 0

    def command(self, private: bool) -> Callable[..., Awaitable[Reply]]:
        async def handler(ctx: Context, text: str | None = None) -> Reply:
            self.entered += 1
            await self.open.wait()
            return Reply(
                text=text or "done", ephemeral=private, buttons=[Button("again", "slow:1")]
            )

        return handler


@pytest.fixture
def gate(app: App) -> Gate:
    g = Gate()
    text = (Param("text", help_key="param.search", required=False),)
    app.commands.add(CommandSpec("slowpublic", "help.help", g.command(False), text))
    app.commands.add(CommandSpec("slowprivate", "help.help", g.command(True), text))

    async def press(ctx: Context, args: list[str]) -> Reply:
        return await g.command(True)(ctx, "pressed")

    app.actions.add(ActionSpec("slow", press))
    return g


async def test_slow_private_reply_edits_the_deferred_response(
    gate: Gate, fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.ack_deadline = 0.5
    bot = await start_bot(SLOW)
    pending = await fake.send(fake.slash(fake.add_member("Alice"), "slowprivate"))
    await asyncio.sleep(0.7)  # past the deadline: only a deferral made it in time
    assert pending.ack_type == 5 and not pending.done.is_set()
    gate.open.set()
    await pending.wait()
    assert not pending.late
    (edit,) = fake.calls_to("PATCH", rf"/webhooks/\d+/{pending.token}/messages/@original")
    assert edit.json["embeds"][0]["description"] == "done"
    assert is_ephemeral(pending.message) and text_of(pending.message) == "done"
    await bot.close()


async def test_slow_public_reply_replaces_the_private_placeholder(
    gate: Gate, fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot(SLOW)
    pending = await fake.send(fake.slash(fake.add_member("Alice"), "slowpublic", text="hello"))
    await asyncio.sleep(0.2)
    gate.open.set()
    await pending.wait()
    assert pending.ack_type == 5
    # The "thinking" placeholder was private; the public answer is a new message.
    assert fake.calls_to("DELETE", rf"/webhooks/\d+/{pending.token}/messages/@original")
    assert not is_ephemeral(pending.message) and text_of(pending.message) == "hello"
    assert pending.payload["_original"] in fake.deleted


async def test_slow_button_is_acknowledged_silently_then_followed_up(
    gate: Gate, fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(SLOW)
    message = fake.bot_message(["slow:1"])
    pending = await fake.send(fake.press(fake.add_member("Alice"), message, "slow:1"))

    async def acknowledged() -> bool:
        return pending.ack_type is not None

    await eventually(acknowledged)  # while the work is held
    assert pending.ack_type == 6  # deferred update: nothing shown yet
    gate.open.set()
    await pending.wait()
    (follow,) = fake.calls_to("POST", rf"/webhooks/\d+/{pending.token}")
    assert follow.json["flags"] & 64
    assert text_of(pending.message) == "pressed"
    await bot.close()


async def test_a_burst_is_acknowledged_first_and_worked_on_after(
    gate: Gate, fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot(Tuning(ack_budget=2.0, max_concurrency=2, guild_ready_timeout=0.05))
    first = [await fake.send(fake.slash(fake.add_member(f"F{i}"), "slowprivate")) for i in range(2)]

    async def both_working() -> bool:
        return gate.entered == 2

    await eventually(both_working)
    assert all(r.ack_type is None for r in first)  # within the budget: no need to defer yet
    third = await fake.send(fake.slash(fake.add_member("Late"), "slowprivate"))

    async def all_acknowledged() -> bool:
        return all(r.ack_type is not None for r in [*first, third])

    await eventually(all_acknowledged)
    # The burst made everyone wait: all three were deferred long before the 2 s budget, and the
    # third is not worked on before the first two are done.
    assert [r.ack_type for r in [*first, third]] == [5, 5, 5]
    assert gate.entered == 2
    gate.open.set()
    for record in [*first, third]:
        await record.wait()
        assert text_of(record.message) == "done" and not record.late
    assert gate.entered == 3


async def test_too_late_an_answer_is_refused_by_discord_and_survived(
    gate: Gate, fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.ack_deadline = 0.3
    bot = await start_bot(Tuning(ack_budget=5.0, guild_ready_timeout=0.05))
    pending = await fake.send(fake.slash(fake.add_member("Alice"), "slowprivate"))
    await asyncio.sleep(0.5)
    gate.open.set()
    await pending.wait()
    assert pending.late and pending.ack_type is None
    # The adapter keeps working (with Discord's usual deadline: this is not about speed).
    fake.ack_deadline = 3.0
    answer = await bot.slash(fake.add_member("Bob"), "help")
    assert answer.ack_type == 4


async def test_what_discord_gave_up_on_is_not_done(
    gate: Gate, fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    bot = await start_bot(Tuning(ack_budget=2.0, max_concurrency=1, guild_ready_timeout=0.05))
    card = await suggest(bot, fake.add_member("Alice"), "Dark mode")
    busy = await fake.send(fake.slash(fake.add_member("Busy"), "slowprivate"))

    async def working() -> bool:
        return gate.entered == 1

    await eventually(working)
    # Discord gives up at once on these clicks: they arrive during a burst, so they are to be
    # acknowledged before any work, and that acknowledgement is refused.
    fake.ack_deadline = 0.0
    clicks = [
        await fake.send(fake.press(fake.add_member(f"Fan{i}"), card, "sv:1")) for i in range(3)
    ]
    for click in clicks:
        await click.wait()
        assert click.late and click.ack_type is None
    fake.ack_deadline = 3.0
    gate.open.set()
    await busy.wait()
    # The members were told it failed, and indeed nothing happened: only the author's vote.
    answer = await bot.slash(fake.add_member("Checker"), "show", id="1")
    assert "Votes\n1" in text_of(answer.message)


async def test_clicks_read_together_are_acknowledged_before_any_work(
    fake: FakeDiscord, app: App
) -> None:
    """More than `QUICK_AT_ONCE` interactions read in one stretch of the gateway are a burst
    from the first: each is acknowledged before its work starts (the work then owns it). A
    lone click is worked on at once, and its reply is its one response."""
    responder = Responder(app, Tuning(ack_budget=1.0, max_concurrency=64))
    message = fake.bot_message(["x:1"])
    owned: dict[str, bool] = {}  # interaction → acknowledged before its work began

    def click() -> tuple[Interaction, Incoming]:
        payload = fake.press(fake.add_member(f"Fan{len(fake.interactions)}"), message, "x:1")
        return fake.record(payload), Incoming(Arrival.of(payload), payload)

    def work(record: Interaction, incoming: Incoming) -> Callable[[], Awaitable[Outcome]]:
        async def run() -> Outcome:
            owned[record.id] = incoming.owned
            return Outcome(Reply(text="ok", ephemeral=True))

        return run

    burst: list[tuple[Interaction, Incoming]] = []

    async def all_worked() -> bool:
        return len(owned) == 1 + len(burst)

    try:
        lone, incoming = click()
        responder.admit(incoming, work(lone, incoming), "lone")
        burst.extend(click() for _ in range(QUICK_AT_ONCE + 6))

        async def lone_answered() -> bool:
            return lone.answered_at is not None

        await eventually(lone_answered)
        assert owned[lone.id] is False and lone.ack_type == 4  # one response, after the work

        for record, incoming in burst:  # one stretch: no await in between
            responder.admit(incoming, work(record, incoming), "burst")
        await eventually(all_worked, within=20)
        assert [owned[r.id] for r, _ in burst] == [True] * len(burst)
        assert all(r.ack_type == 6 for r, _ in burst)  # a silent acknowledgement first
    finally:
        await responder.close()
