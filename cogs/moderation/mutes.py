"""Muted members: they may not suggest or vote for a time (or until the mute is lifted).

The mutes in force are read once per community and kept in memory, since every vote asks;
a mute or unmute anywhere publishes the `mute` topic and every process forgets the community.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.core.change_feed import ChangeFeed
from bot.core.clock import Clock, format_duration, local_time, parse_duration
from bot.core.commands import LONGEST, Role
from bot.core.context import Context
from bot.core.errors import UserError
from storage.moderation.mutes import TOPIC, Mute, MuteRepo

# What a muted member may not do: suggest (the command, "post mine anyway") and vote (the
# commands, the +1 button, a "+1" reply to a suggestion's message).
MUTED_FROM = frozenset(
    {"cmd:suggest", "cmd:comment", "cmd:vote", "cmd:unvote", "act:sv", "act:sp", "reply:sg"}
)
# A duration that means "until lifted".
FOREVER = frozenset({"forever", "permanent", "indefinite", "0", "永久", "无限期"})


def parse_mute_duration(text: str) -> timedelta | None:
    """'2h', '3d', '1w2d' → a duration; 'forever' (永久) → None (until lifted)."""
    word = text.strip().casefold()
    if word in FOREVER:
        return None
    try:
        value = parse_duration(word)
    except ValueError:
        raise UserError("mute.bad_duration", value=text.strip()[:20]) from None
    if value <= timedelta(0) or value > LONGEST:
        raise UserError("mute.bad_duration", value=text.strip()[:20])
    return value


class MuteService:
    def __init__(self, repo: MuteRepo, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self._cache: dict[int, dict[int, Mute]] = {}
        # One read per community at a time (a burst of first presses waits for the same one);
        # a read that began before the mutes changed is used once and not kept.
        self._loading: dict[int, asyncio.Task[dict[int, Mute]]] = {}
        self._generation = 0

    def listen(self, changes: ChangeFeed) -> None:
        changes.subscribe(TOPIC, self._heard)
        changes.on_resync(lambda: self._forget(None))

    def _heard(self, data: dict[str, object]) -> None:
        community = data.get("c")
        self._forget(community if isinstance(community, int) else None)

    def _forget(self, community_id: int | None) -> None:
        self._generation += 1
        if community_id is None:
            self._cache.clear()
            self._loading.clear()
        else:
            self._cache.pop(community_id, None)
            self._loading.pop(community_id, None)

    async def _mutes(self, community_id: int) -> dict[int, Mute]:
        mutes = self._cache.get(community_id)
        if mutes is not None:
            return mutes
        task = self._loading.get(community_id)
        if task is None:
            generation = self._generation
            task = asyncio.ensure_future(self.repo.of_community(community_id, self.clock.now()))
            self._loading[community_id] = task
            try:
                mutes = await asyncio.shield(task)
            finally:
                if self._loading.get(community_id) is task:
                    del self._loading[community_id]
            if generation == self._generation:
                self._cache[community_id] = mutes
            return mutes
        return await asyncio.shield(task)

    async def current(self, community_id: int, account_id: int) -> Mute | None:
        """The member's mute in force now, if any."""
        mute = (await self._mutes(community_id)).get(account_id)
        if mute is not None and mute.until is not None and mute.until <= self.clock.now():
            return None
        return mute

    async def mute(
        self, community_id: int, account_id: int, length: timedelta | None, reason: str, by: int
    ) -> datetime | None:
        now = self.clock.now()
        until = now + length if length is not None else None
        await self.repo.put(community_id, account_id, until, reason, by, now)
        self._forget(community_id)
        return until

    async def unmute(self, community_id: int, account_id: int) -> bool:
        lifted = await self.repo.lift(community_id, account_id, self.clock.now())
        self._forget(community_id)
        return lifted

    async def check(self, ctx: Context, what: str) -> None:
        """The dispatcher's admission check: a muted fan may not suggest or vote."""
        if what not in MUTED_FROM or ctx.member.role >= Role.ADMIN:
            return
        mute = await self.current(ctx.community.id, ctx.member.account_id)
        if mute is None:
            return
        reason = mute.reason or ctx.t("mute.no_reason")
        if mute.until is None:
            raise UserError("mute.active_forever", reason=reason)
        left = max(1, int((mute.until - self.clock.now()).total_seconds()))
        raise UserError(
            "mute.active",
            until=local_time(mute.until, await ctx.timezone()),
            left=format_duration(left if left < 60 else left - left % 60),
            reason=reason,
        )
