"""The adapter's life while it serves: updates by long polling (default) or a webhook, both
through the inbox (nothing fetched is lost to a crash), the outbox worker and housekeeping,
started together and stopped together.

On PostgreSQL several processes may serve one bot (docs/telegram.md, "Several processes"):
webhook workers behind one front, each taking over what a dead one left unhandled; in polling
mode one of them polls and the others stand by; the webhook is set by one of them, when it
differs from what Telegram has."""

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
from bot.adapters.telegram.throttle import SharedThrottle
from bot.adapters.telegram.webhook import MAX_CONNECTIONS, WebhookServer
from bot.core.outbox import OutboxWorker
from config.settings import FanloopSettings
from storage.platform.telegram_workers import WorkerPresence

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_member"]
# Telegram redelivers an update for at most a day; remembering them for two is plenty.
EVENT_MEMORY = timedelta(days=2)
HOMES_FLUSH = 2.0  # seconds
HOUR = 3600.0
OUTBOX_GRACE = 3.0  # seconds the message being delivered gets to finish on a stop
# Several processes (PostgreSQL): how often a webhook worker looks for updates left unhandled
# by a process that is gone, and a standby process tries to take over polling.
ADOPT_EVERY = 2.0
POLL_LEASE_RETRY = 2.0
PACE_MEMORY = 3600.0  # seconds: shared pacing rows of chats idle this long are deleted


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
    presence = WorkerPresence(app.engine) if app.engine.dialect.name == "postgresql" else None
    async with application:
        log.info("telegram: signed in as @%s", adapter.bot.username)
        if presence is not None:
            adapter.inbox.worker = await presence.start()
            log.info("telegram: worker %s", adapter.inbox.worker)
        try:
            await adapter.menu.publish_once(adapter.bot, adapter.messages, app.clock.now())
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
            await _set_webhook(adapter, settings.telegram_webhook_url, token, presence)
        else:
            poller = Poller(
                adapter.api,
                adapter.inbox,
                adapter.dispatch,
                adapter.room,
                allowed_updates=ALLOWED_UPDATES,
                timeout=poll_timeout,
                received=adapter.received,
                replay_first=None if presence is None else lambda: _adopt(adapter, presence),
            )
        worker = OutboxWorker(
            app.outbox,
            PLATFORM,
            OutboxDelivery(adapter.sender, adapter.repo, adapter.posts, app.outbox),
        )
        delivering = asyncio.create_task(worker.run_forever(stop), name="telegram-outbox")
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(_housekeeping(adapter, stop), name="telegram-housekeeping"),
        ]
        if poller is not None:
            polling = _poll(adapter, poller, presence, stop)
            tasks.append(asyncio.create_task(polling, name="telegram-polling"))
        elif presence is not None:
            adopting = _adopting(adapter, presence, stop)
            tasks.append(asyncio.create_task(adopting, name="telegram-adopt"))
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
            if presence is not None:  # last: its locks say this process is alive
                await presence.close()


async def _set_webhook(
    adapter: TelegramAdapter, url: str, token: str, presence: WorkerPresence | None
) -> None:
    """Set the webhook unless Telegram already has it as wanted (the secret is derived from
    the token, so it is the same for every process), one process at a time."""
    if presence is not None:
        await presence.webhook_lock()
    try:
        info = await adapter.bot.get_webhook_info()
        if (
            info.url == url
            and sorted(info.allowed_updates or ()) == sorted(ALLOWED_UPDATES)
            and info.max_connections == MAX_CONNECTIONS
        ):
            log.info("telegram: webhook at %s (already set)", url)
            return
        await adapter.bot.set_webhook(
            url,
            allowed_updates=ALLOWED_UPDATES,
            secret_token=webhook_secret(token),
            max_connections=MAX_CONNECTIONS,
        )
        log.info("telegram: webhook set at %s", url)
    finally:
        if presence is not None:
            await presence.webhook_unlock()


async def _adopt(adapter: TelegramAdapter, presence: WorkerPresence) -> int:
    """Handle the updates that processes which are gone left unhandled; how many."""
    adopted = await presence.adopt()
    for raw in adopted:
        await adapter.room.wait()
        adapter.dispatch(raw)
    return len(adopted)


async def _adopting(
    adapter: TelegramAdapter, presence: WorkerPresence, stop: asyncio.Event
) -> None:
    """A webhook worker: at its start and every few seconds, take over what a dead worker left
    unhandled (Telegram got its 200, so it will not send those updates again)."""
    while not stop.is_set():
        try:
            await _adopt(adapter, presence)
        except Exception:
            log.exception("telegram: could not look for updates left by other processes")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ADOPT_EVERY)


async def _poll(
    adapter: TelegramAdapter, poller: Poller, presence: WorkerPresence | None, stop: asyncio.Event
) -> None:
    """Long polling; with several processes, only the one holding the polling lock polls
    (Telegram answers a second poller "409 Conflict"), the others wait to take over."""
    if presence is not None:
        said = False
        while not await presence.try_polling():
            if not said:
                log.info("telegram: another process polls; standing by to take over")
                said = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_LEASE_RETRY)
            if stop.is_set():
                return
    await adapter.bot.delete_webhook()
    log.info("telegram: long polling")
    await poller.run(stop)


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
                throttle = adapter.sender.throttle
                if isinstance(throttle, SharedThrottle):
                    await throttle.pace.forget_idle(PACE_MEMORY)
        except Exception:
            log.exception("telegram: housekeeping")
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HOMES_FLUSH)
