"""Serving fanloop on the configured platforms, with the scheduler, until stopped.

The settings name the platforms (`FanloopSettings.platforms`); each name is an adapter package
`bot.adapters.<name>` that exposes its `Platform` as `ADAPTER` (see `bot.core.platform`).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal

from bot.core.app import App
from bot.core.platform import Platform
from bot.core.scheduler import Scheduler
from config.settings import FanloopSettings

log = logging.getLogger(__name__)

ADAPTERS = "bot.adapters"


def load_platform(name: str) -> Platform:
    """The `Platform` of the adapter package `bot.adapters.<name>`."""
    try:
        module = importlib.import_module(f"{ADAPTERS}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{ADAPTERS}.{name}":
            raise LookupError(f"no platform adapter named {name!r}") from None
        raise
    platform: Platform | None = getattr(module, "ADAPTER", None)
    if platform is None:
        raise LookupError(f"{module.__name__} exposes no ADAPTER")
    return platform


async def serve_platforms(settings: FanloopSettings) -> int:
    platforms = [load_platform(name) for name in settings.platforms]
    app = await App.create(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = Scheduler(app)
    scheduler.start()
    try:
        log.info("fanloop running on %s", ", ".join(p.name for p in platforms))
        await asyncio.gather(*(p.serve(app, stop) for p in platforms))
    finally:
        await scheduler.stop()
        await app.close()
    return 0
