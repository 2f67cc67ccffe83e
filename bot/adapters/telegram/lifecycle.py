"""The adapter's life while it serves: updates by long polling (default) or a webhook, both
through the inbox (nothing fetched is lost to a crash), the outbox worker and housekeeping,
started together and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.adapters.telegram.adapter import PLATFORM, TelegramAdapter
from bot.adapters.telegram.delivery import OutboxDelivery
from bot.adapters.telegram.polling import Poller, replay
from bot.adapters.telegram.webhook import MAX_CONNECTIONS, WebhookServer
from bot.core.outbox import OutboxWorker
from config.settings import FanloopSettings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_member"]
# Telegram redelivers an update for at most a day; remembering them for two is plenty.
EVENT_MEMORY = timedelta(days=2)
HOMES_FLUSH = 2.0  # seconds
HOUR = 3600.0
OUTBOX_GRACE = 3.0  # seconds the message being delivered gets to finish on a stop


def webhook_secret(token: str) -> str:
    """Telegram sends this back in a header with every update, so strangers cannot post any."""
    return hashlib.sha256(f"fanloop-webhook:{token}".encode()).hexdigest()[:48]


async def run(
    adapter: TelegramAdapter,
    settings: FanloopSettings,
    stop: asyncio.Event,
    *,
    poll_interval: float = 0.0,
    poll_timeout: int = 30,
) -> None:
    application = adapter.application
    app = adapter.app
    token = settings.telegram_token or ""
    async with application:
        log.info("telegram: signed in as @%s", adapter.bot.username)
        try:
            await adapter.menu.publish(adapter.bot)
        except Exception:
            log.exception("telegram: could not publish the command menu")
        webhook: WebhookServer | None = None
        poller: Poller | None = None
        if settings.telegram_webhook_url:
            path = urlsplit(settings.telegram_webhook_url).path
            webhook = WebhookServer(
                adapter.inbox,
                adapter.dispatch,
                adapter.answer_slots,
                path=path,
                secret=webhook_secret(token),
            )
            await webhook.start(settings.telegram_webhook_listen, settings.telegram_webhook_port)
            await adapter.bot.set_webhook(
                settings.telegram_webhook_url,
                allowed_updates=ALLOWED_UPDATES,
                secret_token=webhook_secret(token),
                max_connections=MAX_CONNECTIONS,
            )
            log.info("telegram: webhook at %s", settings.telegram_webhook_url)
        else:
            await adapter.bot.delete_webhook()
            poller = Poller(
                adapter.api,
                adapter.inbox,
                adapter.dispatch,
                adapter.room,
                allowed_updates=ALLOWED_UPDATES,
                timeout=poll_timeout,
                received=adapter.received,
            )
            log.info("telegram: long polling")
        worker = OutboxWorker(app.outbox, PLATFORM, OutboxDelivery(adapter.sender, adapter.repo))
        delivering = asyncio.create_task(worker.run_forever(stop), name="telegram-outbox")
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(_housekeeping(adapter, stop), name="telegram-housekeeping"),
        ]
        if poller is not None:
            tasks.append(asyncio.create_task(poller.run(stop), name="telegram-polling"))
        else:
            replaying = replay(adapter.inbox, adapter.dispatch, adapter.room)
            tasks.append(asyncio.create_task(replaying, name="telegram-replay"))
        app.health.watch(PLATFORM, lambda: _connected(poller, webhook, tasks[-1]))
        try:
            await stop.wait()
        finally:
            app.health.forget(PLATFORM)
            if webhook is not None:
                await webhook.stop()
            adapter.sender.stopping(app.outbox)  # replies still waiting go to the outbox
            await adapter.edits.close()
            await OutboxWorker.finish(delivering, app.outbox, OUTBOX_GRACE)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await adapter.close()
            try:
                await adapter.homes.flush()
            except Exception:
                log.exception("telegram: could not save the members' home groups")


def _connected(
    poller: Poller | None, webhook: WebhookServer | None, receiving: asyncio.Task[Any]
) -> bool:
    """The health probe: updates can arrive (polling works, or the webhook listens)."""
    if poller is not None:
        return poller.fetching and not receiving.done()
    return webhook is not None and webhook.listening


async def _housekeeping(adapter: TelegramAdapter, stop: asyncio.Event) -> None:
    """Write members' home groups every few seconds; forget old update ids and lapsed forms
    every hour."""
    last_prune = -HOUR
    loop = asyncio.get_running_loop()
    while True:
        try:
            await adapter.homes.flush()
            if loop.time() - last_prune >= HOUR:
                last_prune = loop.time()
                now = adapter.app.clock.now()
                await adapter.messages.forget_events_before(now - EVENT_MEMORY)
                await adapter.inbox.repo.forget_handled_before(now - EVENT_MEMORY)
                await adapter.forms.purge(now)
        except Exception:
            log.exception("telegram: housekeeping")
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HOMES_FLUSH)
