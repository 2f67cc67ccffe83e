"""The Discord adapter: every command of the registry as a slash command, buttons and selects
routed by their action, forms as modals, notifications from the outbox.

`serve(app, stop)` logs in with `FANLOOP_DISCORD_TOKEN`, syncs the commands (once per
deployment: `bot.adapters.discord.sync`), connects to the gateway (one connection, or the shards
the settings name: `discord_shard_count`, `discord_shard_ids`) and runs until `stop` is set.
`FANLOOP_DISCORD_API_BASE` and `FANLOOP_DISCORD_GATEWAY_URL` point it at a compatible endpoint
(a self-hosted proxy, or `devtools.servers.discord_api` in tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import discord
import yarl

from bot.adapters.discord.client import (
    FanloopBase,
    FanloopClient,
    ShardedFanloopClient,
    make_client,
)
from bot.adapters.discord.respond import Tuning
from bot.core.app import App
from bot.core.platform import Platform

log = logging.getLogger(__name__)

__all__ = [
    "ADAPTER",
    "DiscordPlatform",
    "FanloopBase",
    "FanloopClient",
    "ShardedFanloopClient",
    "Tuning",
    "endpoints",
    "make_client",
    "run",
    "serve",
]


@contextlib.contextmanager
def endpoints(api_base: str | None, gateway_url: str | None) -> Iterator[None]:
    """Point discord.py at another REST base and gateway for the duration (process-wide)."""
    route = discord.http.Route
    ws = discord.gateway.DiscordWebSocket
    old_base, old_gateway = route.BASE, ws.DEFAULT_GATEWAY
    if api_base:
        route.BASE = api_base.rstrip("/")
    if gateway_url:
        ws.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        route.BASE, ws.DEFAULT_GATEWAY = old_base, old_gateway


async def serve(app: App, stop: asyncio.Event) -> None:
    await run(app, stop)


class DiscordPlatform:
    """Discord as a `bot.core.platform.Platform`."""

    name = "discord"

    async def serve(self, app: App, stop: asyncio.Event) -> None:
        await serve(app, stop)


ADAPTER: Platform = DiscordPlatform()


async def run(app: App, stop: asyncio.Event, tuning: Tuning | None = None) -> None:
    """Connect, serve until `stop` is set, then close cleanly."""
    settings = app.settings
    if not settings.discord_token:
        raise RuntimeError("FANLOOP_DISCORD_TOKEN is not set")
    with endpoints(settings.discord_api_base, settings.discord_gateway_url):
        client = make_client(app, tuning)
        connect: asyncio.Task[None] | None = None
        stopped = asyncio.create_task(stop.wait())
        app.health.watch(ADAPTER.name, client.connected)
        try:
            await client.login(settings.discord_token)
            if isinstance(client, ShardedFanloopClient):
                await client.resolve_shard_count()
            connect = asyncio.create_task(client.connect(reconnect=True))
            done, _ = await asyncio.wait({connect, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if connect in done:
                connect.result()  # the connection ended by itself: say why
                log.warning("the Discord connection ended")
        finally:
            app.health.forget(ADAPTER.name)
            stopped.cancel()
            if connect is not None and not connect.done() and not client.is_ready():
                # Stopped while connecting: let discord.py finish its start first, or its
                # delayed READY would fire into a closing client.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        client.wait_until_ready(), client.tuning.guild_ready_timeout + 1
                    )
            await client.close()
            if connect is not None and not connect.done():
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(connect, 5)
            for _ in range(3):  # let the event handlers discord.py scheduled while closing run
                await asyncio.sleep(0)
