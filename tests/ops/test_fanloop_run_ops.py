"""A real `fanloop run` process on Telegram (the local Bot API server) with
FANLOOP_METRICS_PORT and FANLOOP_LOG_FORMAT=json: /healthz turns ok once it is connected,
/metrics counts a member's command, every line it logs is one JSON object, and SIGTERM stops it
cleanly (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.servers.telegram_api import FakeTelegram, group, message_update, user
from tests.conftest import PG_URL, make_engine
from tests.ops.scrape import get, health, scrape

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("run_child.py")
GROUP = -1001234


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(
    db_kind: str,
    schema: str | None,
    tmp_path: Path,
    fake: FakeTelegram,
    port: int,
    extra: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANLOOP_")}
    env.update(
        PYTHONPATH=str(ROOT),
        FANLOOP_DATA_DIR=str(tmp_path / "data"),
        FANLOOP_TELEGRAM_TOKEN="7000001:TEST-token",
        FANLOOP_TELEGRAM_BASE_URL=fake.base_url,
        FANLOOP_METRICS_PORT=str(port),
        FANLOOP_LOG_FORMAT="json",
    )
    env.update(extra or {})
    if db_kind == "sqlite":  # the command itself
        env["FANLOOP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fanloop.db'}"
        command = [sys.executable, "-m", "bot.cli", "run"]
    else:  # the command, with the engine's search path on this test's schema
        env["FANLOOP_DATABASE_URL"] = PG_URL
        command = [sys.executable, str(CHILD), schema or ""]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)


async def until_healthy(base: str, child: subprocess.Popen[bytes]) -> None:
    for _ in range(600):  # a minute at most
        assert child.poll() is None, "fanloop run ended before it was healthy"
        try:
            if (await health(base))[0] == 200:
                return
        except OSError:  # not listening yet
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("/healthz never said ok")


async def test_fanloop_run_serves_health_metrics_and_json_logs(
    db_kind: str, tmp_path: Path
) -> None:
    engine: AsyncEngine
    engine, schema = await make_engine(db_kind, tmp_path)
    await engine.dispose()
    fake = await FakeTelegram().start()
    fake.titles[GROUP] = "Fans"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = spawn(db_kind, schema, tmp_path, fake, port)
    try:
        await until_healthy(base, child)
        assert await health(base) == (
            200,
            {"status": "ok", "db": "ok", "platforms": {"telegram": "connected"}},
        )
        before = await scrape(base)
        labels = {"platform": "telegram", "kind": "command", "outcome": "ok"}
        assert before.get("fanloop_interactions_total", **labels) == 0
        assert before.value("fanloop_outbox_pending", platform="telegram") is None

        await fake.push_update(message_update(group(GROUP, "Fans"), user(7, "Ann"), "/help"))
        await fake.wait_for("sendMessage", within=30)
        for _ in range(300):
            after = await scrape(base)
            if after.get("fanloop_interactions_total", **labels) >= 1:
                break
            await asyncio.sleep(0.1)
        assert after.get("fanloop_interactions_total", **labels) == 1
        assert after.get("fanloop_interaction_duration_seconds_count", platform="telegram") == 1
        assert after.value("fanloop_database_up") == 1
        assert after.get("process_resident_memory_bytes") > 0
        assert (await get(f"{base}/nothing"))[0] == 404
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.to_thread(child.communicate, timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            _, err = child.communicate()
            raise AssertionError("fanloop run did not stop on SIGTERM") from None
        await fake.stop()
    assert child.returncode == 0, err.decode(errors="replace")[-3000:]

    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert records, "nothing was logged"
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
    messages = [r["message"] for r in records]
    assert "fanloop running on telegram" in messages
    assert any(m.startswith("serving /healthz, /metrics on http://127.0.0.1:") for m in messages)
    assert "fanloop stopping" in messages
