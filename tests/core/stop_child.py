"""`fanloop run` on Telegram as its own process, for the graceful stop test.

Usage: stop_child.py DB_URL SCHEMA BOT_API_BASE DATA_DIR
Serves like `fanloop run` (bot.platforms.serve_platforms, with the signal handlers) against a
local Bot API server; the only difference is the database engine, made here so that a
PostgreSQL test schema can be named.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from bot.core.app import App
from bot.platforms import serve_platforms
from config.settings import FanloopSettings
from storage.engine import create_engine


def main(url: str, schema: str, base_url: str, data_dir: str) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    real_create = App.create.__func__  # type: ignore[attr-defined]

    async def create(cls: type[App], settings: FanloopSettings, *args: Any, **kwargs: Any) -> App:
        engine = create_engine(url, schema=schema or None)
        return await real_create(cls, settings, engine=engine, migrate=False)  # type: ignore[no-any-return]

    App.create = classmethod(create)  # type: ignore[assignment,method-assign]
    settings = FanloopSettings(
        data_dir=Path(data_dir),
        telegram_token="7000001:TEST-token",
        telegram_base_url=base_url,
        stop_grace_seconds=5,
    )
    return asyncio.run(serve_platforms(settings))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
