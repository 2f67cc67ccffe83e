"""Outbox messages delivered on Discord: announcements, DMs and role changes.

- "channel": the target is the community's announce channel (an id, or a `<#id>` mention as
  typed in /settings), or the guild id when none is set: then the guild's system channel, else
  the first text channel the bot may post in. A live update (`LIVE_EDIT`, a drop's counts)
  edits the channel's live message of its subject in place (`PATCH`, embed and components),
  unless that message already shows a newer update; a deleted or foreign message is replaced
  by a new post. A 429 on the edit is waited out like a post's (`DeliveryRetry`).
- "member": a DM to the user id; a member who does not accept DMs is a permanent failure.
- "thread": into the discussion thread of the subject (`threads.py`), started on first use.
- "role": grant or revoke the guild role with that name (never created); a missing role, a
  member who left or a role above the bot's are permanent failures.

discord.py already waits out short rate limits; a longer one (or a 429 it gave up on) becomes
`DeliveryRetry(retry_after)`, so the worker retries the message then. Any other error is retried
with the worker's back-off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import discord

from bot.adapters.discord.members import PLATFORM
from bot.adapters.discord.post_edits import PostEdits
from bot.adapters.discord.render import render
from bot.adapters.discord.threads import DiscussionThreads
from bot.core.app import App
from bot.core.outbox import (
    LIVE,
    LIVE_EDIT,
    POST_EDIT,
    DeliveryFailed,
    DeliveryRetry,
    OutboxItem,
)
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

SNOWFLAKE = re.compile(r"\d{5,22}")
DEFAULT_RETRY = 5.0
Sendable = discord.TextChannel | discord.Thread | discord.DMChannel | discord.VoiceChannel


class NoChannel(Exception):
    """No channel of the server takes the bot's messages (yet)."""


def outbox_nonce(item_id: int) -> str:
    """The nonce a message of the outbox is sent with. discord.py sends it with
    `enforce_nonce`, so Discord creates no second message for a delivery retried within a few
    minutes (the first one's answer was lost, or its process died before recording it)."""
    return f"fl{item_id}"  # at most 25 characters


class Deliveries:
    def __init__(self, client: discord.Client, app: App, posts: PostEdits) -> None:
        self.client = client
        self.app = app
        self.posts = posts
        self.messages = MessagesRepo(app.engine)
        self.threads = DiscussionThreads(client, app)

    async def __call__(self, item: OutboxItem) -> None:
        try:
            if item.kind == "channel":
                await self._post(item, await self._channel(item.target))
            elif item.kind == "member":
                await self._dm(item)
            elif item.kind == "role":
                await self._role(item)
            elif item.kind == "thread":
                await self.threads.post(item, outbox_nonce(item.id))
            elif item.kind == POST_EDIT:
                # A subject's new view from a process that does not serve Discord.
                await self.app.outbox.deliver_post_edit(item, self.posts.edit)
            else:
                raise DeliveryFailed(f"unknown outbox kind {item.kind!r}")
        except discord.RateLimited as exc:
            raise DeliveryRetry(exc.retry_after) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise DeliveryRetry(_retry_after(exc)) from exc
            raise

    # -- channels --------------------------------------------------------------------------------

    async def _channel(self, target: str) -> Sendable:
        found = SNOWFLAKE.search(target)
        if found is None:
            raise DeliveryFailed(f"not a Discord channel or server: {target!r}")
        ident = int(found.group())
        guild = self.client.get_guild(ident)
        if guild is None:
            cached = self.client.get_channel(ident)
            if isinstance(cached, Sendable):
                return cached
            try:
                fetched = await self.client.fetch_channel(ident)
            except discord.NotFound:
                guild = await self._fetch_guild(ident)
            else:
                if isinstance(fetched, Sendable):
                    return fetched
                raise DeliveryFailed(f"channel {ident} cannot take messages")
        return await self._guild_channel(guild)

    async def _fetch_guild(self, ident: int) -> discord.Guild:
        try:
            return await self.client.fetch_guild(ident)
        except discord.NotFound:
            raise DeliveryFailed(f"no channel or server {ident}") from None

    async def _guild_channel(self, guild: discord.Guild) -> Sendable:
        """Where a server's announcements go when none is configured."""
        channels = list(guild.text_channels) or [
            c for c in await guild.fetch_channels() if isinstance(c, discord.TextChannel)
        ]
        me = guild.me

        def can_post(channel: discord.TextChannel) -> bool:
            if me is None:
                return True
            perms = channel.permissions_for(me)
            return perms.send_messages and perms.embed_links

        # A server fetched over REST (on a shard another process runs) has no channels cached:
        # its system channel is among those fetched (discord.py keeps only the id then).
        system_id = getattr(guild, "_system_channel_id", None)
        system = guild.system_channel or next((c for c in channels if c.id == system_id), None)
        if system is not None and can_post(system):
            return system
        for channel in sorted(channels, key=lambda c: (c.position, c.id)):
            if can_post(channel):
                return channel
        # Retried with back-off: the owner may still give the bot a channel.
        raise NoChannel(f"no channel of server {guild.id} takes the bot's messages")

    async def _post(self, item: OutboxItem, channel: Sendable) -> None:
        reply = Reply.from_dict(item.payload)
        live = item.payload.get(LIVE) if reply.subject else None
        if live == LIVE_EDIT and await self._edit_live(item, channel, reply):
            return
        message = await channel.send(**render(reply).send(), nonce=outbox_nonce(item.id))
        dm = isinstance(channel, discord.DMChannel)
        if reply.subject or (dm and (reply.buttons or reply.select)):
            await self.messages.remember(
                PLATFORM,
                str(channel.id),
                str(message.id),
                reply.subject or "",
                item.community_id,
                self.app.clock.now(),
            )
        if live and reply.subject:
            await self.messages.set_live(
                PLATFORM,
                str(channel.id),
                reply.subject,
                str(message.id),
                item.id,
                self.app.clock.now(),
            )

    async def _edit_live(self, item: OutboxItem, channel: Sendable, reply: Reply) -> bool:
        """Show a live update on the channel's live message of its subject; False when there
        is none to edit (then it is posted)."""
        assert reply.subject
        known = await self.messages.live(PLATFORM, str(channel.id), reply.subject)
        if known is None:
            return False
        if known.item_id >= item.id:
            return True  # a newer update is shown already (this one was retried late)
        try:
            await channel.get_partial_message(int(known.message_id)).edit(**render(reply).edit())
        except (discord.NotFound, discord.Forbidden) as exc:
            log.info("live message %s cannot be edited (%s): posting anew", known.message_id, exc)
            return False
        await self.messages.set_live(
            PLATFORM,
            str(channel.id),
            reply.subject,
            known.message_id,
            item.id,
            self.app.clock.now(),
        )
        return True

    # -- members ---------------------------------------------------------------------------------

    async def _dm(self, item: OutboxItem) -> None:
        uid = _user_id(item.target)
        try:
            channel = await self.client.create_dm(discord.Object(uid))
            await self._post(item, channel)
        except discord.Forbidden as exc:
            raise DeliveryFailed(f"user {uid} does not accept DMs ({exc.code})") from exc
        except discord.NotFound as exc:
            raise DeliveryFailed(f"no user {uid}") from exc

    async def _role(self, item: OutboxItem) -> None:
        uid = _user_id(item.target)
        action, name = str(item.payload.get("action")), str(item.payload.get("role") or "")
        if action not in ("grant", "revoke") or not name:
            raise DeliveryFailed(f"bad role change {item.payload!r}")
        spaces = [
            s
            for s in await self.app.identity.spaces_of(item.community_id)
            if s.platform == PLATFORM
        ]
        if not spaces:
            raise DeliveryFailed(f"community {item.community_id} has no Discord server")
        failures = []
        for space in spaces:
            try:
                await self._change_role(int(space.space_id), uid, name, action == "grant")
                return
            except DeliveryFailed as exc:
                failures.append(str(exc))
        raise DeliveryFailed("; ".join(failures))

    async def _change_role(self, guild_id: int, uid: int, name: str, grant: bool) -> None:
        guild = self.client.get_guild(guild_id) or await self._fetch_guild(guild_id)
        role = _named(guild.roles, name)
        if role is None:  # created since the guild was cached? ask Discord
            role = _named(await guild.fetch_roles(), name)
        if role is None:
            raise DeliveryFailed(f"server {guild_id} has no role named {name!r}")
        try:
            member = guild.get_member(uid) or await guild.fetch_member(uid)
        except discord.NotFound:
            raise DeliveryFailed(f"user {uid} is not in server {guild_id}") from None
        try:
            if grant:
                await member.add_roles(role, reason="fanloop")
            else:
                await member.remove_roles(role, reason="fanloop")
        except discord.Forbidden as exc:
            raise DeliveryFailed(f"the bot may not manage role {name!r} ({exc.code})") from exc


def _named(roles: Sequence[discord.Role], name: str) -> discord.Role | None:
    return next((r for r in roles if r.name.casefold() == name.casefold()), None)


def _user_id(target: str) -> int:
    found = SNOWFLAKE.search(target)
    if found is None:
        raise DeliveryFailed(f"not a Discord user: {target!r}")
    return int(found.group())


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", DEFAULT_RETRY))
    except (TypeError, ValueError):
        return DEFAULT_RETRY
