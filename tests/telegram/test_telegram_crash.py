"""Kill -9 the Telegram adapter's process in the middle of a burst of button presses, restart
it, and check that every update acted exactly once: nothing fetched is lost (the inbox), and an
update handled again after the crash does not act twice (its receipt, or an effect that is the
same done twice). Long polling and webhook, on SQLite and PostgreSQL.

The local Bot API server runs in the test's process and outlives the bot, like Telegram: with
long polling it hands out again what was not confirmed by a later offset; with a webhook it
POSTs each update until it is answered 200. Some presses are delivered twice on purpose.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.app import App
from bot.core.clock import SystemClock
from config.settings import FanloopSettings
from devtools.bench.telegram_claims import claim_outcome, seed_claim_world
from devtools.servers.telegram_api import (
    BOT_USER,
    FakeTelegram,
    callback_update,
    group,
    message_update,
    user,
)
from storage.drops.schema import wins
from storage.platform.schema import telegram_inbox
from tests.conftest import engine_url, make_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
GROUP_ID = -1008000000
FIRST_MEMBER = 600_000_000
FIRST_UPDATE = 10_000
WAIT = 600.0  # seconds: only against a hang (a loaded machine is slow), not a measurement


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(record=False).start()
    try:
        yield server
    finally:
        await server.stop()


class Bot:
    """The adapter's process: started, killed, started again."""

    def __init__(self, url: str, schema: str, base_url: str, webhook_port: int) -> None:
        self.args = [url, schema, base_url, str(webhook_port)]
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), *self.args, cwd=ROOT, env=env
        )

    async def kill(self) -> None:
        assert self.proc is not None and self.proc.returncode is None, "it stopped by itself"
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def _until(check: Any, what: str) -> None:
    """Wait (without a timed assertion) until `check()` is true; fail after WAIT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.01)


async def _inbox(engine: AsyncEngine) -> tuple[set[int], int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(telegram_inbox.c.update_id, telegram_inbox.c.handled_at))
        all_rows = rows.all()
    return {int(r[0]) for r in all_rows}, sum(1 for r in all_rows if r[1] is None)


def _answered(fake: FakeTelegram, presses: list[dict[str, Any]]) -> int:
    return sum(1 for p in presses if str(p["callback_query"]["id"]) in fake.answered_at)


async def _burst_with_a_kill(
    fake: FakeTelegram,
    bot: Bot,
    engine: AsyncEngine,
    presses: list[dict[str, Any]],
    settled: Any = None,
) -> None:
    """Push the presses (every fifth twice), kill the bot once a fifth are answered, restart
    it, wait until every press is answered and every stored update handled."""
    twice = presses[::5]
    await fake.push_updates(presses[: len(presses) // 2] + twice[:10])
    await fake.push_updates(presses[len(presses) // 2 :] + twice[10:])

    async def some_answered() -> bool:
        return _answered(fake, presses) >= len(presses) // 5

    await _until(some_answered, "a fifth of the presses answered")
    await bot.kill()
    assert _answered(fake, presses) < len(presses), "the burst ended before the kill"
    await bot.start()

    async def all_answered() -> bool:
        return _answered(fake, presses) == len(presses)

    await _until(all_answered, "every press answered")
    ids = {int(p["update_id"]) for p in presses}

    async def all_handled() -> bool:
        stored, unhandled = await _inbox(engine)
        return ids <= stored and unhandled == 0

    await _until(all_handled, "every update stored and handled")
    if settled is not None:
        await _until(settled, "the messages that follow sent")
    await bot.stop()


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest, unused_tcp_port: int) -> int:
    """The webhook's port, or 0 for long polling."""
    return unused_tcp_port if request.param == "webhook" else 0


async def test_votes_survive_a_sigkill_mid_burst(
    db_kind: str, tmp_path: Path, fake: FakeTelegram, mode: int
) -> None:
    # Acting once on a replay of a toggle needs the vote path to record the update's receipt
    # with the vote (the batched vote writer).
    pytest.importorskip("cogs.suggestions.vote_writer")
    from cogs.suggestions.service import SuggestionService

    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    bot = Bot(url, schema or "", fake.base_url, mode)
    chat = group(GROUP_ID, "Crash fans")
    try:
        await bot.start()
        await fake.push_update(
            message_update(chat, user(FIRST_MEMBER - 1, "Author"), '/suggest "Dark mode"')
        )

        async def card_posted() -> bool:
            return bool(fake.sent(GROUP_ID))

        await _until(card_posted, "the suggestion's card posted")
        card = fake.sent(GROUP_ID)[-1]
        members = 200
        presses = [
            callback_update(
                user(FIRST_MEMBER + i, f"Fan {i}"), card, "sv:1", update_id=FIRST_UPDATE + i
            )
            for i in range(members)
        ]
        await _burst_with_a_kill(fake, bot, engine, presses)

        app = await App.create(
            FanloopSettings(data_dir=tmp_path / "data"), SystemClock(), engine=engine, migrate=False
        )
        suggestion = await app.services.get(SuggestionService).get(1, 1)
        assert suggestion.votes == members + 1  # every member once, and the author
    finally:
        await bot.stop()
        await engine.dispose()


async def test_claims_survive_a_sigkill_mid_burst(
    db_kind: str, tmp_path: Path, fake: FakeTelegram, mode: int
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    app = await App.create(
        FanloopSettings(data_dir=tmp_path / "data"), SystemClock(), engine=engine, migrate=False
    )
    pressers, quota = 300, 30
    drop_id = await seed_claim_world(
        app, group_id=GROUP_ID, first_member=FIRST_MEMBER, pressers=pressers, quota=quota,
        waitlist=20,
    )  # fmt: skip
    bot = Bot(url, schema or "", fake.base_url, mode)
    card = {"message_id": 1, "date": 1, "chat": group(GROUP_ID, "Crash fans"), "from": BOT_USER}
    presses = [
        callback_update(
            user(FIRST_MEMBER + i, f"Fan {i}"), card, f"dc:{drop_id}", update_id=FIRST_UPDATE + i
        )
        for i in range(pressers)
    ]

    async def codes() -> dict[int, str]:
        async with engine.connect() as conn:
            return {
                int(a): str(c)
                for a, c in await conn.execute(select(wins.c.account_id, wins.c.code))
            }

    def told() -> list[str]:
        return [m.get("text", "") for m in fake.sent() if m["chat"]["id"] > 0]

    async def every_code_sent() -> bool:
        won = await codes()
        return len(won) == quota and all(any(c in t for t in told()) for c in won.values())

    try:
        await bot.start()
        await _burst_with_a_kill(fake, bot, engine, presses, every_code_sent)
        outcome = await claim_outcome(engine, drop_id)
        assert outcome == {"winners": quota, "units_taken": quota}  # sold out, none oversold
        won = await codes()
        assert len(won) == quota  # nobody won twice
        # Every code sent to a member in private is a code the database holds for a winner.
        sent = {c for text in told() for c in won.values() if c in text}
        assert sent == set(won.values())
    finally:
        await bot.stop()
        await app.close()
