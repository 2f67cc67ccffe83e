"""The discord.py client of fanloop: the command tree from the registry, events to the dispatcher,
the outbox worker once the guilds are known, and the hourly forgetting of old event ids.

`FanloopClient` is one unsharded gateway connection; `ShardedFanloopClient` runs the shards the
settings name (`discord_shard_count`, `discord_shard_ids`) in this process, through discord.py's
`AutoShardedClient`. `make_client` picks the one the settings ask for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.adapters.discord.delivery import Deliveries
from bot.adapters.discord.interactions import Interactions
from bot.adapters.discord.render import NO_MENTIONS
from bot.adapters.discord.respond import Tuning
from bot.adapters.discord.schema import SchemaBuilder
from bot.adapters.discord.sync import CommandSync
from bot.adapters.discord.translate import CommandTranslator
from bot.core.app import App
from bot.core.outbox import OutboxWorker
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PACKAGE = "bot.adapters.discord"
# The ids of handled interactions and messages (`processed_events`) are kept for two days: an
# interaction cannot be answered after 15 minutes, and Discord redelivers nothing older.
EVENT_MEMORY = timedelta(days=2)
HOUR = 3600.0
OUTBOX_GRACE = 3.0  # seconds the message being delivered gets to finish on a stop
APPLICATION_COMMAND = 2
ARRIVED_KEPT = 10_000  # arrival times of slash commands not yet handled (a bound, not a cache)


def intents(message_content: bool) -> discord.Intents:
    """Guilds (roles, channels, owner) and guild messages (replies to the bot's messages, which
    carry their text when they mention the bot); the message content intent only on request."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.message_content = message_content
    return chosen


class FanloopBase(discord.Client):
    """What both clients share; `**options` go to discord.py (the shards, for the sharded one)."""

    def __init__(self, app: App, tuning: Tuning | None = None, **options: Any) -> None:
        self.tuning = tuning or Tuning()
        settings = app.settings
        super().__init__(
            **options,
            intents=intents(settings.discord_message_content),
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=self.tuning.guild_ready_timeout,
            max_ratelimit_timeout=30.0,
            # A bounded pool of kept-alive connections: a burst of responses reuses them instead
            # of opening one connection per response.
            connector=aiohttp.TCPConnector(limit=self.tuning.http_connections),
        )
        self.app = app
        app.translator.load_package(PACKAGE)
        self.tree: app_commands.CommandTree[FanloopBase] = app_commands.CommandTree(
            self,
            allowed_contexts=app_commands.AppCommandContext(guild=True),
            allowed_installs=app_commands.AppInstallationType(guild=True),
        )
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.interactions = Interactions(self, app, self.tuning)
        self._hook_interactions()
        self.deliveries = Deliveries(self, app, self.interactions.posts)
        self._stop_worker = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    def _hook_interactions(self) -> None:
        """Take INTERACTION_CREATE before discord.py parses it: stamp its arrival, and hand
        buttons, selects and form submissions to `Interactions.on_raw` as the raw payload
        (acknowledging needs only its id and token); slash commands and autocomplete go on to
        discord.py's command tree."""
        parsers = self._connection.parsers
        parse = parsers["INTERACTION_CREATE"]
        interactions = self.interactions

        backlog = self.interactions.responder.acks.backlog

        def on_interaction_create(data: Any) -> None:
            at = backlog.created(int(data["id"]), time.monotonic())
            if interactions.on_raw(data, at):
                return
            if data.get("type") == APPLICATION_COMMAND:
                if len(interactions.arrived) > ARRIVED_KEPT:
                    interactions.arrived.clear()
                interactions.arrived[int(data["id"])] = at
            parse(data)

        parsers["INTERACTION_CREATE"] = on_interaction_create

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CommandTranslator(self.app.translator))
        for command in SchemaBuilder(self.app, self.interactions).commands():
            self.tree.add_command(command)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the commands (on the development server when configured, else globally),
        once per deployment and command schema unless configured otherwise: see
        `bot.adapters.discord.sync`."""
        await CommandSync(self.app, self.tree).run()

    def connected(self) -> bool:
        """Ready, and the gateway's connection open (not closed, not reconnecting): the
        health probe (`App.health`)."""
        ws = self.ws
        return self.is_ready() and not self.is_closed() and ws is not None and ws.open

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d servers", self.user, len(self.guilds))
        if self._worker is None:
            worker = OutboxWorker(self.app.outbox, "discord", self.deliveries)
            self._worker = asyncio.create_task(worker.run_forever(self._stop_worker))
        if self._housekeeping is None:
            self._housekeeping = asyncio.create_task(self._forget_old_events())

    async def _forget_old_events(self) -> None:
        """Every hour, forget the ids of events handled more than `EVENT_MEMORY` ago."""
        messages = MessagesRepo(self.app.engine)
        while True:
            try:
                await messages.forget_events_before(self.app.clock.now() - EVENT_MEMORY)
            except Exception:
                log.exception("could not forget old event ids")
            await asyncio.sleep(HOUR)

    async def on_message(self, message: discord.Message) -> None:
        await self.interactions.on_message(message)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Never re-raise here: discord.py would call this handler a second time.
        if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
            key = "discord.outdated"
            log.warning("outdated command used: %s", error)
        else:
            key = "discord.failed"
            log.error("slash command failed", exc_info=error)
        if not interaction.response.is_done():
            text = self.app.translator(interaction.locale.value, key)
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(text, ephemeral=True)

    async def close(self) -> None:
        await self.interactions.cards.close()  # edits still due get a moment to go out
        await self.interactions.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        if self._worker is not None:
            # Let the worker finish the message in hand; wake it whenever it waits for more.
            self._stop_worker.set()
            await OutboxWorker.finish(self._worker, self.app.outbox, OUTBOX_GRACE)
            self._worker = None
        await super().close()


class FanloopClient(FanloopBase):
    """One gateway connection, unsharded (no shard setting given)."""


class ShardedFanloopClient(FanloopBase, discord.AutoShardedClient):
    """The shards `discord_shard_ids` of `discord_shard_count` (all of them when no ids are
    given) in this process, one gateway connection each. With `discord_shard_count = "auto"`,
    `resolve_shard_count` asks Discord for the number it recommends before connecting."""

    def __init__(self, app: App, tuning: Tuning | None = None) -> None:
        settings = app.settings
        count = settings.discord_shard_count
        super().__init__(
            app,
            tuning,
            shard_count=count if isinstance(count, int) else None,
            shard_ids=settings.discord_shard_ids,
        )

    async def resolve_shard_count(self) -> None:
        """Take Discord's recommended shard count when none is configured (`GET /gateway/bot`).
        The gateway itself stays the configured one (discord.py would take the URL that route
        names, bypassing `discord_gateway_url`)."""
        if self.shard_count is None:
            self.shard_count, _url, _limits = await self.http.get_bot_gateway()
            log.info("Discord recommends %d shards", self.shard_count)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self.tuning.identify_interval)

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("shard %d of %s is ready", shard_id, self.shard_count)


def make_client(app: App, tuning: Tuning | None = None) -> FanloopBase:
    """The client the settings ask for: sharded when a shard setting is given."""
    if app.settings.discord_sharded:
        return ShardedFanloopClient(app, tuning)
    return FanloopClient(app, tuning)
