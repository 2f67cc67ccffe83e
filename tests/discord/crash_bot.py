"""The Discord adapter run as its own process by the SIGKILL crash test.

Usage: crash_bot.py DATABASE_URL SCHEMA API_BASE GATEWAY_URL DATA_DIR
Connects to the local Discord server at API_BASE / GATEWAY_URL and serves until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.adapters.discord import Tuning, run
from bot.core.app import App
from bot.core.clock import SystemClock
from config.settings import FanloopSettings
from storage.engine import create_engine


async def main(url: str, schema: str, api_base: str, gateway: str, data_dir: str) -> None:
    settings = FanloopSettings(
        data_dir=Path(data_dir),
        database_url=url,
        discord_token="crash.test.token",
        discord_api_base=api_base,
        discord_gateway_url=gateway,
    )
    engine = create_engine(url, schema=schema or None)
    app = await App.create(settings, SystemClock(), engine=engine, migrate=False)
    # Few at work at once: a burst is acknowledged first and worked on after.
    await run(app, asyncio.Event(), Tuning(max_concurrency=4, guild_ready_timeout=0.05))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
