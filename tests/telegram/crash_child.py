"""The Telegram adapter run as its own process by the SIGKILL crash tests.

Usage: crash_child.py DATABASE_URL SCHEMA BASE_URL WEBHOOK_PORT (0: long polling)
It serves until it is killed (or SIGTERM), against the local Bot API server of the test.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.lifecycle import run
from bot.core import runtime
from bot.core.app import App
from bot.core.clock import SystemClock
from config.settings import FanloopSettings
from storage.engine import create_engine

TOKEN = "7000001:CRASH-token"


async def main(url: str, schema: str, base_url: str, webhook_port: int) -> None:
    engine = create_engine(url, schema=schema or None)
    with tempfile.TemporaryDirectory() as tmp:
        values: dict[str, object] = {
            "data_dir": tmp,
            "telegram_token": TOKEN,
            "telegram_base_url": base_url,
        }
        if webhook_port:
            values["telegram_webhook_url"] = f"http://127.0.0.1:{webhook_port}/hook"
            values["telegram_webhook_port"] = webhook_port
        settings = FanloopSettings.model_validate(values)
        app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
        adapter = TelegramAdapter(app, TOKEN, base_url=base_url, concurrency=16)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await run(adapter, settings, stop, poll_timeout=1)
        finally:
            await app.close()


if __name__ == "__main__":
    runtime.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
