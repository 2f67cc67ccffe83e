"""Gateway sessions and sharding as Discord does it.

A bot connection IDENTIFYs as shard `[id, count]` (none: `[0, 1]`). A guild belongs to shard
`(guild_id >> 22) % count`; its events (interactions, messages, GUILD_CREATE) go to that shard's
connection only, and events of no guild (direct messages) to shard 0. `GET /gateway/bot`
recommends a shard count; IDENTIFY with an id outside its count is closed with 4010 ("Invalid
shard"), and one shard carrying more than `MAX_GUILDS_PER_SHARD` guilds with 4011 ("Sharding
required")."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_GUILDS_PER_SHARD = 2500  # Discord's ceiling: past it, IDENTIFY is refused with 4011
GUILDS_PER_RECOMMENDED_SHARD = 1000  # about what `GET /gateway/bot` recommends per shard
INVALID_SHARD, SHARDING_REQUIRED = 4010, 4011


def shard_of(guild_id: int, count: int) -> int:
    """The shard that owns a guild."""
    return (guild_id >> 22) % count


def recommended_shards(guilds: int) -> int:
    return max(1, math.ceil(guilds / GUILDS_PER_RECOMMENDED_SHARD))


@dataclass
class Session:
    """One identified gateway connection: its shard and its own sequence numbers."""

    ws: web.WebSocketResponse
    shard_id: int
    shard_count: int
    identify: dict[str, Any]
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def owns(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return shard_of(guild_id, self.shard_count) == self.shard_id

    async def send(self, event: str, data: dict[str, Any]) -> None:
        frame = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        await self.ws.send_str(json.dumps(frame))


def shard_field(identify: dict[str, Any]) -> tuple[int, int] | None:
    """The `[id, count]` of an IDENTIFY (`[0, 1]` without one); None when it is malformed."""
    shard = identify.get("shard")
    if shard is None:
        return 0, 1
    try:
        sid, count = (int(x) for x in shard)
    except (TypeError, ValueError):
        return None
    if count < 1 or not 0 <= sid < count:
        return None
    return sid, count


def session_for(sessions: dict[int, Session], guild_id: int | None) -> Session | None:
    """The live session that owns a guild's events (shard 0 for events of no guild)."""
    for session in sessions.values():
        if not session.ws.closed and session.owns(guild_id):
            return session
    return None
