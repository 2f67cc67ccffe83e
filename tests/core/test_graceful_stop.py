"""SIGTERM while replies wait for Telegram's group limit: the process exits promptly, the
replies still waiting are in the outbox, and the next start delivers them. A real `fanloop run`
process against the local Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.servers.telegram_api import FakeTelegram, group, message_update, user
from storage.core.schema import leases, outbox
from tests.conftest import engine_url, make_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("stop_child.py")
GROUP = -1001234
REPLIES = 30  # the group limit lets 20 through in the first minute


def _spawn(url: str, schema: str, fake: FakeTelegram, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, schema, fake.base_url, str(data)], cwd=ROOT, env=env
    )


async def _until(condition: Callable[[], bool], what: str, child: subprocess.Popen[bytes]) -> None:
    for _ in range(2400):  # two minutes at most
        if condition():
            return
        assert child.poll() is None, f"the process ended before {what}"
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def _pending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        q = select(func.count()).where(
            outbox.c.platform == "telegram",
            outbox.c.delivered_at.is_(None),
            outbox.c.failed_at.is_(None),
        )
        return int((await conn.execute(q)).scalar_one())


async def _stop(child: subprocess.Popen[bytes]) -> int:
    child.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(child.wait, 60)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError("the process did not exit after SIGTERM") from None


async def test_sigterm_keeps_waiting_replies_and_a_restart_sends_them(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    fake = await FakeTelegram().start()
    fake.titles[GROUP] = "Fans"
    fake.unreachable.update(500 + i for i in range(REPLIES))  # never opened a private chat
    chat = group(GROUP, "Fans")
    try:
        # Thirty members each send a command; the replies go to the group, as the members
        # never opened a private chat with the bot.
        await fake.push_updates(
            [message_update(chat, user(500 + i, f"Fan{i}"), "/notify on") for i in range(REPLIES)]
        )
        child = _spawn(url, schema or "", fake, tmp_path / "data")

        def group_sent() -> int:
            return len(fake.sent(GROUP))

        await _until(lambda: group_sent() >= 20, "20 replies were sent", child)
        assert group_sent() < REPLIES  # the rest wait for the group limit
        assert await _stop(child) == 0
        sent_first = group_sent()
        parked = await _pending(engine)
        assert parked > 0 and sent_first + parked == REPLIES  # nothing lost, nothing doubled
        async with engine.connect() as conn:  # the scheduler lease was given up
            assert (await conn.execute(select(func.count()).select_from(leases))).scalar_one() == 0

        # The next start delivers them.
        child = _spawn(url, schema or "", fake, tmp_path / "data")
        await _until(lambda: group_sent() >= REPLIES, "the kept replies were sent", child)
        assert await _stop(child) == 0
        assert group_sent() == REPLIES
        assert await _pending(engine) == 0
    finally:
        await fake.stop()
        await engine.dispose()
