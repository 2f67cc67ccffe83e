"""A post parked during an outage of the platform survives a crash: a real `fanloop run` process
against the local Bot API server, whose sendMessage fails with 502 Bad Gateway, keeps an admin's
public /status card in the outbox; the process is SIGKILLed while the outage lasts; once Telegram
answers again, the restarted process posts the card exactly once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.servers.telegram_api import FakeTelegram, group, message_update, user
from storage.core.schema import outbox
from tests.conftest import engine_url, make_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("stop_child.py")
GROUP = -1001234
FAN = user(501, "Fan")
ADMIN = user(502, "Adam")
STATUS_CARD = "📌 #1"


def _spawn(url: str, schema: str, fake: FakeTelegram, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, schema, fake.base_url, str(data)], cwd=ROOT, env=env
    )


async def _until(
    condition: Callable[[], Any], what: str, child: subprocess.Popen[bytes], within: float = 180
) -> None:
    """Until `condition()` (or the coroutine it returns) is true; the child must live."""
    for _ in range(int(within / 0.05)):
        held = condition()
        if asyncio.iscoroutine(held):
            held = await held
        if held:
            return
        assert child.poll() is None, f"the process ended before {what}"
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def _parked(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        q = select(outbox).where(outbox.c.target == str(GROUP)).order_by(outbox.c.id)
        return list((await conn.execute(q)).all())


def _cards(fake: FakeTelegram) -> list[dict[str, Any]]:
    return [m for m in fake.sent(GROUP) if STATUS_CARD in (m.get("text") or "")]


async def test_a_post_parked_in_an_outage_is_sent_once_after_a_sigkill(
    db_kind: str, tmp_path: Path
) -> None:
    engine, schema = await make_engine(db_kind, tmp_path)
    url = engine_url(db_kind, tmp_path)
    fake = await FakeTelegram().start()
    fake.titles[GROUP] = "Fans"
    fake.set_admins(GROUP, admins=(ADMIN["id"],))
    chat = group(GROUP, "Fans")
    data = tmp_path / "data"
    child = _spawn(url, schema or "", fake, data)
    try:
        await fake.push_update(message_update(chat, FAN, '/suggest "Dark mode"'))
        await _until(
            lambda: any("#1 Dark mode" in (m.get("text") or "") for m in fake.sent(GROUP)),
            "the suggestion was posted",
            child,
        )
        # Telegram goes down; the admin changes the suggestion's status meanwhile.
        fake.fail("sendMessage", 502, times=None)
        await fake.push_update(message_update(chat, ADMIN, "/status 1 planned"))

        async def kept_and_retried() -> bool:
            rows = await _parked(engine)
            return len(rows) == 1 and rows[0].attempts >= 1 and rows[0].delivered_at is None

        await _until(kept_and_retried, "the card was kept and its delivery retried", child)
        assert _cards(fake) == []
        child.kill()  # SIGKILL, while the outage lasts
        assert await asyncio.to_thread(child.wait, 30) == -signal.SIGKILL

        fake.recover()
        child = _spawn(url, schema or "", fake, data)
        await _until(lambda: _cards(fake), "the kept card was posted", child)
        child.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(child.wait, 60) == 0
        (card,) = _cards(fake)
        assert "#1 Dark mode" in card["text"]
        (row,) = await _parked(engine)
        assert row.delivered_at is not None and "Bad Gateway" in (row.last_error or "")
    finally:
        if child.poll() is None:
            child.kill()
            await asyncio.to_thread(child.wait, 30)
        await fake.stop()
        await engine.dispose()
