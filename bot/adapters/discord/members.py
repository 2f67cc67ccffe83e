"""Who acts: the fanloop context of a Discord member, with the role Discord's payload gives them.

owner = the server's owner or a member with Administrator; admin = Manage Server, or a role
named in the community setting `admin_roles` (names, ids or role mentions, comma-separated);
everyone else is a fan. The permissions come from the event itself (Discord computes them per
channel), so they are as current as the click. In a DM the community is the one of the
message the button is on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

import discord

from bot.core.app import App
from bot.core.commands import Role
from bot.core.context import Context, Receipt
from storage.platform.messages import MessagesRepo

PLATFORM = "discord"
ROLE_MENTION = re.compile(r"^<@&(\d+)>$")


def role_of(*, owner: bool, permissions: discord.Permissions) -> Role:
    if owner or permissions.administrator:
        return Role.OWNER
    if permissions.manage_guild:
        return Role.ADMIN
    return Role.FAN


def admin_role_match(setting: str, roles: Iterable[tuple[int, str]]) -> bool:
    """Whether one of the member's (id, name) roles is named in the `admin_roles` setting."""
    wanted = set()
    for item in setting.split(","):
        item = item.strip()
        if mention := ROLE_MENTION.match(item):
            item = mention.group(1)
        item = item.lstrip("@").casefold()
        if item:
            wanted.add(item)
    return any(str(rid) in wanted or name.casefold() in wanted for rid, name in roles)


def member_roles(user: discord.abc.User) -> list[tuple[int, str]]:
    if not isinstance(user, discord.Member):
        return []
    return [(r.id, r.name) for r in user.roles if not r.is_default()]


class Members:
    def __init__(self, client: discord.Client, app: App) -> None:
        self.client = client
        self.app = app
        self.messages = MessagesRepo(app.engine)

    async def context(
        self,
        *,
        guild_id: int,
        guild_name: str | None,
        user: discord.abc.User,
        owner: bool,
        permissions: discord.Permissions,
        locale: str | None,
        receipt: Receipt | None = None,
    ) -> Context:
        roles = member_roles(user)
        role = role_of(owner=owner, permissions=permissions)
        ctx = await self.app.context(
            platform=PLATFORM,
            space_id=str(guild_id),
            space_name=guild_name or str(guild_id),
            user_id=str(user.id),
            display_name=user.display_name,
            role=role,
            locale_hint=locale,
            receipt=receipt,
        )
        if role is Role.FAN and roles:
            setting = str(await self.app.community_settings.get(ctx.community.id, "admin_roles"))
            if admin_role_match(setting, roles):
                ctx.member = dataclasses.replace(ctx.member, role=Role.ADMIN)
        ctx.extras = {"roles": [name for _, name in roles]}
        return ctx

    async def for_interaction(
        self, interaction: discord.Interaction, receipt: Receipt | None = None
    ) -> Context | None:
        """The context of whoever sent the interaction (`receipt`: the delivery's, for a service
        that records it with its effect); None in a DM fanloop knows nothing of."""
        locale = interaction.locale.value
        if interaction.guild_id is None:
            return await self._in_dm(interaction, locale, receipt)
        guild = interaction.guild
        return await self.context(
            guild_id=interaction.guild_id,
            guild_name=guild.name if guild is not None else None,
            user=interaction.user,
            owner=guild is not None and guild.owner_id == interaction.user.id,
            permissions=interaction.permissions,
            locale=locale,
            receipt=receipt,
        )

    async def for_message(self, message: discord.Message) -> Context | None:
        guild = message.guild
        if guild is None or not isinstance(message.author, discord.Member):
            return None
        return await self.context(
            guild_id=guild.id,
            guild_name=guild.name,
            user=message.author,
            owner=guild.owner_id == message.author.id,
            permissions=message.author.guild_permissions,
            locale=None,
        )

    async def _in_dm(
        self, interaction: discord.Interaction, locale: str, receipt: Receipt | None
    ) -> Context | None:
        message = interaction.message
        if message is None or interaction.channel_id is None:
            return None
        cid = await self.messages.community_of(
            PLATFORM, str(interaction.channel_id), str(message.id)
        )
        if cid is None:
            return None
        space = next(
            (s for s in await self.app.identity.spaces_of(cid) if s.platform == PLATFORM), None
        )
        if space is None:
            return None
        guild = await self._guild(int(space.space_id))
        member = await self._guild_member(guild, interaction.user.id)
        return await self.context(
            guild_id=int(space.space_id),
            guild_name=space.name,
            user=member or interaction.user,
            owner=guild is not None and guild.owner_id == interaction.user.id,
            permissions=member.guild_permissions if member else discord.Permissions.none(),
            locale=locale,
            receipt=receipt,
        )

    async def _guild(self, guild_id: int) -> discord.Guild | None:
        """The server, from the cache, else from Discord: with shards, a direct message comes
        on shard 0 and the server it is about may be on a shard another process runs."""
        guild = self.client.get_guild(guild_id)
        if guild is None:
            try:
                guild = await self.client.fetch_guild(guild_id)
            except discord.HTTPException:
                return None
        return guild

    async def _guild_member(self, guild: discord.Guild | None, uid: int) -> discord.Member | None:
        if guild is None:
            return None
        member = guild.get_member(uid)
        if member is None:
            try:
                member = await guild.fetch_member(uid)
            except discord.HTTPException:
                return None
        return member

    async def display_name(self, ctx: Context, user: discord.abc.User) -> str:
        """A MEMBER option: make sure fanloop knows that member, and name them as it does."""
        now = self.app.clock.now()
        ident = await self.app.identity.account_for(PLATFORM, str(user.id), user.display_name, now)
        await self.app.identity.touch_member(ctx.community.id, ident.account_id, now)
        return ident.display_name
