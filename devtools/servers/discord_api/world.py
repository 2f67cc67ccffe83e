"""The local Discord server's world: ids and permission bits, users, guilds with their roles,
channels and members, and the records of what was asked of it."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

APP_ID = 1100000000000000001  # the bot user has the application's id
GUILD_ID = 1100000000000000100
GENERAL_ID = 1100000000000000200
NEWS_ID = 1100000000000000201

VIEW, SEND, EMBED, ATTACH, HISTORY = 1 << 10, 1 << 11, 1 << 14, 1 << 15, 1 << 16
ADMINISTRATOR, MANAGE_GUILD, MANAGE_ROLES, USE_COMMANDS = 1 << 3, 1 << 5, 1 << 28, 1 << 31
MESSAGE_CONTENT = 1 << 15  # the gateway intent
EVERYONE = VIEW | SEND | EMBED | ATTACH | HISTORY | USE_COMMANDS
ALL_PERMISSIONS = (1 << 51) - 1


_ids = itertools.count(1)
DISCORD_EPOCH_MS = 1420070400000


def snowflake() -> str:
    """A new id, shaped as Discord's: the milliseconds since Discord's epoch in the high bits
    (so the bot can tell how old an interaction is), a counter in the low 22."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_ids) & 0x3FFFFF))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Rejected(Exception):
    """What Discord answers with an error status."""

    def __init__(self, status: int, code: int, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            out["errors"] = self.errors
        return out


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200
    user_agent: str = ""


@dataclass
class Interaction:
    """One interaction sent to the bot, and everything the bot answered to it."""

    payload: dict[str, Any]
    sent_at: float
    ack_type: int | None = None
    ack_at: float | None = None
    late: bool = False
    answered_at: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # what the user ends up seeing
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    deliveries: int = 0  # how often it was sent to the bot (more than once: redelivered)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def deferred(self) -> bool:
        return self.ack_type in (5, 6)

    @property
    def message(self) -> dict[str, Any]:
        """The last message the bot showed for this interaction."""
        assert self.messages, f"no message was shown (ack type {self.ack_type})"
        return self.messages[-1]

    async def wait(self, within: float = 10.0) -> Interaction:
        await asyncio.wait_for(self.done.wait(), within)
        return self


def user_payload(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name.lower(),
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user_payload(APP_ID, "fanloop", bot=True)


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, dict[str, Any]] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Threads started in the guild's channels (`POST …/messages/{id}/threads`), by id.
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids
    system_channel_id: int | None = None

    def add_role(self, name: str, permissions: int = 0, *, position: int | None = None) -> int:
        rid = self.id if name == "@everyone" else int(snowflake())
        self.roles[rid] = {
            "id": str(rid),
            "name": name,
            "color": 0,
            "hoist": False,
            "position": len(self.roles) if position is None else position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return rid

    def role_id(self, name: str) -> int:
        return next(rid for rid, r in self.roles.items() if r["name"] == name)

    def permissions(self, uid: int) -> int:
        if uid == self.owner_id:
            return ALL_PERMISSIONS
        value = int(self.roles[self.id]["permissions"])
        for rid in self.members.get(uid, []):
            value |= int(self.roles[rid]["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def member(self, user: dict[str, Any], *, permissions: int | None = None) -> dict[str, Any]:
        uid = int(user["id"])
        return {
            "user": user,
            "roles": [str(r) for r in self.members.get(uid, [])],
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "permissions": str(self.permissions(uid) if permissions is None else permissions),
        }

    def channel(self, cid: int) -> dict[str, Any]:
        return self.channels[cid]

    def payload(self, users: dict[int, dict[str, Any]]) -> dict[str, Any]:
        """A full GUILD_CREATE."""
        members = [self.member(users[uid]) for uid in self.members if uid in users]
        for m in members:
            m.pop("permissions")
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(self.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "unavailable": False,
            "member_count": len(self.members),
            "large": False,
            "joined_at": now_iso(),
            "members": members,
            "channels": list(self.channels.values()),
            "threads": [t for t in self.threads.values() if not t["thread_metadata"]["archived"]],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


def text_channel(cid: int, guild_id: int, name: str, position: int) -> dict[str, Any]:
    return {
        "id": str(cid),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "topic": None,
        "last_message_id": None,
    }


def member_message(
    guild: Guild,
    user: dict[str, Any],
    channel_id: str,
    content: str,
    *,
    mention: bool,
    kind: int,
    identify: dict[str, Any] | None,
    **extra: Any,
) -> dict[str, Any]:
    """A member's MESSAGE_CREATE payload in `channel_id` (`kind` 0: a message, 19: a reply)."""
    member = guild.member(user)
    member.pop("user")
    member.pop("permissions")
    msg = {
        "id": snowflake(),
        "channel_id": channel_id,
        "guild_id": str(guild.id),
        "author": user,
        "member": member,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [BOT_USER] if mention else [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": kind,
        "flags": 0,
        **extra,
    }
    intents = int((identify or {}).get("intents") or 0)
    if not mention and not intents & MESSAGE_CONTENT:
        # Without the privileged intent Discord sends no text for messages not mentioning the bot.
        msg["content"] = ""
    return msg
