"""The real Telegram adapter (long polling, and a webhook worker, against the local Bot API
server) with the operations endpoints: /healthz follows the connection, /metrics counts what
members do and how soon their presses were answered (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.telegram import serve
from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import DEFAULT_COGS, FanloopSettings
from devtools.servers.telegram_api import FakeTelegram, callback_update, group, message_update, user
from tests.ops.scrape import health, scrape, serving

GROUP = -1001234
ALICE = user(101, "Alice")
BOB = user(102, "Bob")


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(300):  # 30 s at most
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def test_health_and_metrics_follow_a_telegram_adapter(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path
) -> None:
    fake = await FakeTelegram().start()
    fake.titles[GROUP] = "Fans"
    settings = FanloopSettings(
        data_dir=tmp_path / "data",
        cogs=list(DEFAULT_COGS),
        telegram_token="7000001:TEST-token",
        telegram_base_url=fake.base_url,
    )
    app = await App.create(settings, clock, engine=engine, migrate=False)
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        async with serving(app, ["telegram"]) as base:
            status, body = await health(base)  # not started yet
            assert (status, body["platforms"]) == (503, {"telegram": "disconnected"})

            task = asyncio.create_task(serve(app, stop))

            async def healthy() -> bool:
                return (await health(base))[0] == 200

            await until(healthy, "/healthz says ok")
            assert (await health(base))[1] == {
                "status": "ok",
                "db": "ok",
                "platforms": {"telegram": "connected"},
            }
            before = await scrape(base)
            assert before.value("fanloop_platform_connected", platform="telegram") == 1

            chat = group(GROUP, "Fans")
            await fake.push_update(message_update(chat, ALICE, '/suggest "Dark mode" "At night"'))
            await until(lambda: _sent(fake), "the suggestion was posted")
            card = fake.sent(GROUP)[-1]
            press = callback_update(BOB, card, "sv:1")
            await fake.push_update(press)
            await fake.wait_answered({press["callback_query"]["id"]}, within=30)

            async def counted() -> bool:
                got = await scrape(base)
                return got.get("fanloop_answer_latency_seconds_count", platform="telegram") >= 1

            await until(counted, "the answer was counted")
            after = await scrape(base)

            def moved(name: str, **labels: str) -> float:
                return after.get(name, **labels) - before.get(name, **labels)

            tg = {"platform": "telegram"}
            assert moved("fanloop_interactions_total", kind="command", outcome="ok", **tg) == 1
            assert moved("fanloop_interactions_total", kind="button", outcome="ok", **tg) == 1
            assert moved("fanloop_answer_latency_seconds_count", **tg) == 1
            assert moved("fanloop_answer_latency_seconds_sum", **tg) > 0
            assert moved("fanloop_answers_missed_total", **tg) == 0

            # Telegram out of reach: the poller's getUpdates fails, /healthz says so.
            await fake.stop()

            async def unhealthy() -> bool:
                status, body = await health(base)
                return status == 503 and body["platforms"] == {"telegram": "disconnected"}

            await until(unhealthy, "/healthz says telegram is disconnected")
            assert (await health(base))[1]["db"] == "ok"
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait({task}, timeout=30)
        await fake.stop()
        await app.close()


async def _sent(fake: FakeTelegram) -> bool:
    return bool(fake.sent(GROUP))


async def test_a_webhook_worker_is_healthy_while_it_listens(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path
) -> None:
    fake = await FakeTelegram().start()
    fake.titles[GROUP] = "Fans"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = FanloopSettings(
        data_dir=tmp_path / "data",
        cogs=list(DEFAULT_COGS),
        telegram_token="7000001:TEST-token",
        telegram_base_url=fake.base_url,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    app = await App.create(settings, clock, engine=engine, migrate=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop))
    try:
        async with serving(app, ["telegram"]) as base:

            async def healthy() -> bool:
                return (await health(base))[0] == 200

            await until(healthy, "/healthz says ok")
            assert fake.webhook is not None  # updates come by the webhook
            await fake.push_update(message_update(group(GROUP, "Fans"), ALICE, "/help"))
            await fake.wait_for("sendMessage", within=30)

            async def counted() -> bool:
                got = await scrape(base)
                return got.get("fanloop_interactions_total", platform="telegram") == 1

            await until(counted, "the command was counted")

            stop.set()  # the worker stops listening: no longer healthy

            async def down() -> bool:
                return (await health(base))[0] == 503

            await until(down, "/healthz says the worker stopped")
    finally:
        stop.set()
        await asyncio.wait({task}, timeout=30)
        await fake.stop()
        await app.close()
