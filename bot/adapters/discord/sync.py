"""Registering the slash commands with Discord once per deployment, not by every process.

Discord keeps one set of commands per application (globally, or per server for a development
server); a bulk overwrite replaces it. Every fanloop process builds the same command tree, so
with several processes (shards) and restarts, syncing at each start would repeat the same
request many times over, against a tight rate limit, and briefly race overwrites of one
another during a rolling upgrade.

So the schema to be sent (the translated payload, exactly what `tree.sync` sends) is hashed,
and the key `discord:commands:<application>:<scope>:<hash>` is claimed in `job_runs`, the table
of exactly-once work: across processes only one claim of a key succeeds, a claim whose holder
died mid-sync is taken over by the next start, and a finished key is never claimed again. The
process that claims the key syncs and marks it finished; every other process, and every later
start with the same schema, skips the sync. A changed schema (a new release, another cog, a
changed translation) has another hash: the first process to start with it syncs it. A failed
sync gives the key back, so the next start tries again.

`discord_command_sync = "always"` syncs at every start (the behaviour of a single process
before), `"never"` leaves the commands to other means.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from bot.core.app import App
from bot.core.scheduler import HOLDER

log = logging.getLogger(__name__)

KEY_PREFIX = "discord:commands"


async def schema_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    """What `tree.sync(guild=guild)` sends: every command of that scope, translated."""
    translator = tree.translator
    out = []
    for command in tree.get_commands(guild=guild):
        if translator is not None:
            out.append(await command.get_translated_payload(tree, translator))
        else:
            out.append(command.to_dict(tree))
    return out


def schema_hash(payload: list[dict[str, Any]]) -> str:
    """A digest of the schema that does not depend on the order commands were added in."""
    ordered = sorted(payload, key=lambda c: (int(c.get("type") or 1), str(c.get("name"))))
    text = json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def sync_key(application_id: int, guild_id: int | None, digest: str) -> str:
    scope = str(guild_id) if guild_id else "global"
    return f"{KEY_PREFIX}:{application_id}:{scope}:{digest}"


class CommandSync:
    """One start's decision and sync: `run()` syncs when this process is the one to."""

    def __init__(self, app: App, tree: app_commands.CommandTree[Any]) -> None:
        self.app = app
        self.tree = tree

    async def run(self) -> bool:
        """Sync when the settings and the database say so; True when this process synced."""
        settings = self.app.settings
        dev = settings.discord_dev_guild
        guild = discord.Object(dev) if dev else None
        if guild is not None:
            # Also without a sync: interactions of guild commands resolve through the tree's
            # guild commands.
            self.tree.copy_global_to(guild=guild)
        mode = settings.discord_command_sync
        if mode == "never":
            log.info("slash commands are not synced (discord_command_sync = never)")
            return False
        if mode == "always":
            return await self._sync(guild)
        app_id = self.tree.client.application_id
        if app_id is None:  # discord.py sets it at login; `tree.sync` would refuse too
            raise discord.MissingApplicationID
        digest = schema_hash(await schema_payload(self.tree, guild))
        key = sync_key(app_id, dev, digest)
        jobs = self.app.jobs
        if not await jobs.claim(key, HOLDER, self.app.clock.now()):
            if await jobs.done(key):
                log.info("slash commands unchanged since their last sync (%s): not synced", digest)
            else:
                log.info("slash commands are being synced by another process (%s)", digest)
            return False
        if await self._sync(guild):
            await jobs.finish(key, self.app.clock.now())
            return True
        await jobs.release(key, HOLDER)
        return False

    async def _sync(self, guild: discord.Object | None) -> bool:
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error("could not sync the slash commands: %s", exc)
            return False
        where = f"to server {guild.id}" if guild is not None else "globally"
        log.info("synced %d slash commands %s", len(synced), where)
        return True
