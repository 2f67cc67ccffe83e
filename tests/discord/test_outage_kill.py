"""A post kept during an outage of Discord survives a crash: the adapter in its own process
(`crash_bot.py`) keeps an admin's public /status card in the outbox while every response and
message post fails; it is SIGKILLed while the outage lasts; once Discord answers again, the
restarted process posts the card exactly once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.core.app import App
from devtools.servers.discord_api import GENERAL_ID, FakeDiscord
from storage.core.schema import outbox
from tests.conftest import _templates, engine_url
from tests.discord.conftest import StartBot, eventually, is_ephemeral, suggest, text_of

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_bot.py")
STATUS_CARD = "📌 #1"
OUTAGE = 10**6  # requests failed: until `recover`


def _spawn(url: str, schema: str, fake: FakeDiscord, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [url, schema, fake.api_base, fake.gateway_url, str(data)]
    return subprocess.Popen([sys.executable, str(CHILD), *args], cwd=ROOT, env=env)


async def _connected(fake: FakeDiscord, child: subprocess.Popen[bytes]) -> None:
    async def up() -> bool:
        assert child.poll() is None, "the bot's process ended"
        return fake.identified.is_set()

    await eventually(up, within=60)


async def _kept(app: App) -> list[Any]:
    async with app.engine.connect() as conn:
        q = select(outbox).where(outbox.c.target == str(GENERAL_ID)).order_by(outbox.c.id)
        return list((await conn.execute(q)).all())


def _cards(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.channel_messages(GENERAL_ID)
        if STATUS_CARD in text_of(m) and not is_ephemeral(m)
    ]


async def test_a_post_kept_in_an_outage_is_posted_once_after_a_sigkill(
    db_kind: str, tmp_path: Path, fake: FakeDiscord, app: App, start_bot: StartBot
) -> None:
    url = engine_url(db_kind, tmp_path)
    schema = "" if db_kind == "sqlite" else str(_templates().pg_schema)
    bot = await start_bot()
    await suggest(bot, fake.owner, "Dark mode")
    await bot.close()

    fake.identified.clear()
    child = _spawn(url, schema, fake, tmp_path / "data")
    try:
        await _connected(fake, child)
        # Discord goes down: interaction responses, follow-ups and channel posts all fail.
        fake.fail("POST", r"/interactions/\d+/[^/]+/callback", 502, times=OUTAGE)
        fake.fail("POST", r"/webhooks/\d+/[^/]+", 502, times=OUTAGE)
        fake.fail("POST", rf"/channels/{GENERAL_ID}/messages", 503, times=OUTAGE)
        await fake.send(fake.slash(fake.owner, "status", id="1", status="planned"))

        async def kept_and_retried() -> bool:
            assert child.poll() is None, "the bot's process ended"
            rows = await _kept(app)
            return len(rows) == 1 and rows[0].attempts >= 1 and rows[0].delivered_at is None

        await eventually(kept_and_retried, within=120)
        assert _cards(fake) == []
        child.send_signal(signal.SIGKILL)  # while the outage lasts
        await asyncio.to_thread(child.wait, 30)

        fake.recover()
        fake.identified.clear()
        child = _spawn(url, schema, fake, tmp_path / "data")
        await _connected(fake, child)

        async def posted() -> bool:
            rows = await _kept(app)
            return bool(_cards(fake)) and all(r.delivered_at is not None for r in rows)

        await eventually(posted, within=180)
        child.send_signal(signal.SIGTERM)
        await asyncio.to_thread(child.wait, 60)
        (card,) = _cards(fake)
        assert "#1 Dark mode" in text_of(card)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            await asyncio.to_thread(child.wait, 30)
