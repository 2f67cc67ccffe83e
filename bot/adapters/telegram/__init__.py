"""Telegram: fanloop in groups and in a private chat with the bot (python-telegram-bot 22)."""

from __future__ import annotations

import asyncio
import logging
import os

# python-telegram-bot 22 warns whenever it builds a RetryAfter (429) unless time periods are
# opted in as timedelta, the type they will have in its next major version; the adapter reads
# them either way (sender.retry_after_seconds).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.lifecycle import run
from bot.core.app import App
from bot.core.platform import Platform


async def serve(app: App, stop: asyncio.Event) -> None:
    """Run the Telegram adapter until `stop` is set (FANLOOP_TELEGRAM_TOKEN is required)."""
    settings = app.settings
    if not settings.telegram_token:
        raise RuntimeError("FANLOOP_TELEGRAM_TOKEN is not set")
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot's token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    adapter = TelegramAdapter(app, settings.telegram_token, base_url=settings.telegram_base_url)
    await run(adapter, settings, stop)


class TelegramPlatform:
    """Telegram as a `bot.core.platform.Platform`."""

    name = "telegram"

    async def serve(self, app: App, stop: asyncio.Event) -> None:
        await serve(app, stop)


ADAPTER: Platform = TelegramPlatform()

__all__ = ["ADAPTER", "TelegramAdapter", "TelegramPlatform", "serve"]
