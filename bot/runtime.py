"""Running fanloop on the configured platforms, with the scheduler, until stopped."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable

from bot.core.app import App
from bot.core.scheduler import Scheduler
from config.settings import FanloopSettings

log = logging.getLogger(__name__)

# Each platform package exposes `async def serve(app: App, stop: asyncio.Event) -> None`.
PLATFORMS = {
    "discord": "bot.adapters.discord",
    "telegram": "bot.adapters.telegram",
}

Serve = Callable[[App, asyncio.Event], Awaitable[None]]


async def run_platforms(settings: FanloopSettings) -> int:
    app = await App.create(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = Scheduler(app)
    scheduler.start()
    try:
        serves: list[Serve] = [
            importlib.import_module(PLATFORMS[name]).serve for name in settings.platforms
        ]
        log.info("fanloop running on %s", ", ".join(settings.platforms))
        await asyncio.gather(*(serve(app, stop) for serve in serves))
    finally:
        await scheduler.stop()
        await app.close()
    return 0
