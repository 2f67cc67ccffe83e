"""Serving fanloop on the configured platforms, with the scheduler, until stopped.

The settings name the platforms (`FanloopSettings.platforms`); each name is an adapter package
`bot.adapters.<name>` that exposes its `Platform` as `ADAPTER` (see `bot.core.platform`).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from typing import Any

from bot.core.app import App
from bot.core.platform import Platform
from bot.core.scheduler import Scheduler
from bot.web import ops, site
from bot.web.server import HttpServers
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


class ListenError(RuntimeError):
    """An address in the settings that cannot be listened on (in use, not this host's)."""


async def serve_platforms(settings: FanloopSettings) -> int:
    platforms = [load_platform(name) for name in settings.platforms]
    app = await App.create(settings)
    app.start_feed()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = Scheduler(app, settings.scheduler_tick_seconds)
    servers = HttpServers()
    if settings.metrics_port:
        names = [p.name for p in platforms]
        ops_routes = ops.routes(app, names, tick_seconds=scheduler.interval)
        servers.add(settings.metrics_host, settings.metrics_port, ops_routes)
    pages: site.SitePages | None = None
    if settings.web_port:
        site_routes, pages = site.routes(app)
        servers.add(settings.web_host, settings.web_port, site_routes)
    serving: list[asyncio.Task[None]] = []
    try:
        try:
            await servers.start()
        except OSError as exc:
            where = [
                f"{key}: cannot listen on {host}:{port}: {exc.strerror or exc}"
                for key, host, port in (
                    ("metrics_port", settings.metrics_host, settings.metrics_port),
                    ("web_port", settings.web_host, settings.web_port),
                )
                if port
            ]
            raise ListenError(" / ".join(where)) from None
        scheduler.start()
        serving = [
            asyncio.create_task(p.serve(app, stop), name=f"serve-{p.name}") for p in platforms
        ]
        log.info("fanloop running on %s", ", ".join(p.name for p in platforms))
        await _until_stopped(serving, stop)
    finally:
        stop.set()
        app.health.stopping = True  # GET /healthz says so while the rest stops
        log.info("fanloop stopping")
        await scheduler.stop()
        await stop_within(serving, settings.stop_grace_seconds)
        await servers.stop()
        if pages is not None:
            await pages.close()
        await app.close()
    return 0


async def _until_stopped(serving: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Until `stop` is set, or every platform ended (the first failure is raised)."""
    stopped: asyncio.Task[Any] = asyncio.create_task(stop.wait())
    pending: set[asyncio.Task[Any]] = set(serving)
    try:
        while pending and not stop.is_set():
            done, _ = await asyncio.wait({*pending, stopped}, return_when=asyncio.FIRST_COMPLETED)
            pending -= done
            for task in done - {stopped}:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
    finally:
        stopped.cancel()


def unreachable(exc: BaseException) -> OSError | None:
    """The network error under a platform's start-up failure (no network, a wrong address)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError):
            return e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    return None


async def stop_within(serving: list[asyncio.Task[None]], grace: float) -> None:
    """Give the platforms `grace` seconds to finish what is under way after a stop, then cut
    them short. Nothing announced is lost by that: notifications are in the outbox, and an
    adapter stores the replies still waiting for its rate limit there when it is told to stop
    (see `bot.core.outbox.Outbox.park`); a restart delivers them."""
    running = [t for t in serving if not t.done()]
    if running:
        _done, late = await asyncio.wait(running, timeout=grace)
        if late:
            log.warning(
                "stopping: %d platform(s) still busy after %.0f s; cut short", len(late), grace
            )
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=5.0)
    for task in serving:
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            if (cause := unreachable(error)) is not None:  # no traceback for a network failure
                log.error("platform stopped: cannot reach it: %s", cause)
            else:
                log.error("platform stopped with an error", exc_info=error)
