"""The state of the local Discord server and the messages it keeps."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from devtools.servers.discord_api.limits import check_message
from devtools.servers.discord_api.shards import Session, shard_of
from devtools.servers.discord_api.world import (
    APP_ID,
    BOT_USER,
    EVERYONE,
    GENERAL_ID,
    GUILD_ID,
    MANAGE_ROLES,
    NEWS_ID,
    Call,
    Guild,
    Interaction,
    Rejected,
    now_iso,
    snowflake,
    text_channel,
    user_payload,
)

EPHEMERAL = 1 << 6  # message flag


class Store:
    """The guilds (one to begin with), their users and channels, the bot's messages, the
    interactions sent, the gateway sessions."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, ack_deadline: float = 3.0
    ) -> None:
        self.host, self.port, self.ack_deadline = host, port, ack_deadline
        self.calls: list[Call] = []
        self.users: dict[int, dict[str, Any]] = {APP_ID: BOT_USER}
        self.messages: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.interactions: dict[str, Interaction] = {}
        self.by_token: dict[str, Interaction] = {}  # the webhook routes find them by token
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id or None (global)
        self.blocked_dms: set[int] = set()
        self.identify: dict[str, Any] | None = None  # the last IDENTIFY
        self.identifies: list[dict[str, Any]] = []  # every IDENTIFY, in order
        self.identified = asyncio.Event()  # set at each IDENTIFY
        self.sessions: dict[int, Session] = {}  # shard id -> its live gateway connection
        # What `GET /gateway/bot` recommends; None: one shard per 1000 guilds, as Discord.
        self.recommended_shards: int | None = None
        self._gateway_changed = asyncio.Condition()
        self._failures: list[tuple[str, re.Pattern[str], int, dict[str, Any], list[int]]] = []
        self._dm_channels: dict[str, int] = {}
        self.nonces: dict[tuple[int, str], str] = {}  # (channel, enforced nonce) -> message id
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._burst: list[Interaction] = []
        self._burst_task: asyncio.Task[None] | None = None
        self._burst_message: str | None = None
        self._burst_cpu = 0.0
        self.owner = self.add_user("Owner")
        guild = Guild(GUILD_ID, "Fan Club", int(self.owner["id"]))
        guild.add_role("@everyone", EVERYONE)
        bot_role = guild.add_role("fanloop", EVERYONE | MANAGE_ROLES, position=10)
        guild.channels[GENERAL_ID] = text_channel(GENERAL_ID, GUILD_ID, "general", 0)
        guild.channels[NEWS_ID] = text_channel(NEWS_ID, GUILD_ID, "news", 1)
        guild.system_channel_id = GENERAL_ID
        guild.members[APP_ID] = [bot_role]
        guild.members[int(self.owner["id"])] = []
        self.guilds: dict[int, Guild] = {GUILD_ID: guild}

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def guild(self) -> Guild:
        return self.guilds[GUILD_ID]

    # -- the world ---------------------------------------------------------------------------

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """Another guild owned by the owner, with a #general channel and the bot as a member;
        `shard=(id, count)` picks its id so that it belongs to that shard."""
        gid = int(snowflake())
        while shard is not None and shard_of(gid, shard[1]) != shard[0]:
            gid = int(snowflake())
        guild = Guild(gid, name, int(self.owner["id"]))
        guild.add_role("@everyone", EVERYONE)
        bot_role = guild.add_role("fanloop", EVERYONE | MANAGE_ROLES, position=10)
        general = int(snowflake())
        guild.channels[general] = text_channel(general, gid, "general", 0)
        guild.system_channel_id = general
        guild.members[APP_ID] = [bot_role]
        guild.members[int(self.owner["id"])] = []
        self.guilds[gid] = guild
        return guild

    def guild_of_channel(self, cid: int) -> Guild | None:
        return next(
            (g for g in self.guilds.values() if cid in g.channels or cid in g.threads), None
        )

    def add_user(self, name: str, *, uid: int | None = None) -> dict[str, Any]:
        user = user_payload(uid or int(snowflake()), name)
        self.users[int(user["id"])] = user
        return user

    def add_member(self, name: str, *roles: str, guild: int = GUILD_ID) -> dict[str, Any]:
        user = self.add_user(name)
        g = self.guilds[guild]
        g.members[int(user["id"])] = [g.role_id(r) for r in roles]
        return user

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == str(channel_id) and m["id"] not in self.deleted
        ]

    def _find_channel(self, cid: int) -> dict[str, Any] | None:
        for guild in self.guilds.values():
            if cid in guild.channels:
                return guild.channels[cid]
            if cid in guild.threads:
                return guild.threads[cid]
        return None

    def dm_channel(self, uid: int) -> int:
        """The id of the DM channel between the bot and a user."""
        key = str(uid)
        if key not in self._dm_channels:
            self._dm_channels[key] = int(snowflake())
        return self._dm_channels[key]

    def _store_message(
        self,
        data: dict[str, Any],
        channel_id: int,
        *,
        message_id: str | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
        dm: bool = False,
        interaction: bool = False,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "id": message_id or snowflake(),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": data.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": snowflake(),
                    "filename": name,
                    "size": len(content),
                    "url": f"https://cdn.example/{name}",
                    "proxy_url": f"https://cdn.example/{name}",
                }
                for name, content in (files or {}).values()
            ],
            "embeds": data.get("embeds") or [],
            "components": data.get("components") or [],
            "pinned": False,
            "type": 20 if interaction else 0,
            "flags": data.get("flags") or 0,
        }
        if not dm:
            guild = self.guild_of_channel(channel_id)
            msg["guild_id"] = str(guild.id if guild is not None else GUILD_ID)
        if interaction:
            msg.update(webhook_id=str(APP_ID), application_id=str(APP_ID))
        self.messages[msg["id"]] = msg
        return msg

    def _edit_message(self, cid: int, mid: str, data: dict[str, Any]) -> dict[str, Any]:
        """`PATCH /channels/{cid}/messages/{mid}` with the bot token: the bot's own messages
        only, and no ephemeral one (the channel route does not see them). The fields sent
        replace the message's; Discord answers with the message as it is now (an edit that
        changes nothing is no error, unlike on Telegram)."""
        msg = self.messages.get(mid)
        hidden = msg is None or int(msg.get("flags") or 0) & EPHEMERAL
        if hidden or mid in self.deleted or msg is None or msg["channel_id"] != str(cid):
            raise Rejected(404, 10008, "Unknown Message")
        if msg["author"]["id"] != BOT_USER["id"]:
            raise Rejected(403, 50005, "Cannot edit a message authored by another user")
        updated = dict(msg)
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in data:
                updated[key] = data[key] or empty
        errors = check_message(updated, len(updated["attachments"]))
        if errors:
            raise Rejected(400, 50035, "Invalid Form Body", errors)
        updated["edited_timestamp"] = now_iso()
        self.messages[mid] = updated
        return updated
