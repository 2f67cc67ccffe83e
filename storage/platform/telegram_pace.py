"""Telegram's sending limits shared by every process on one PostgreSQL database.

A send takes a slot with one statement: under row locks on the chat's row and the row of all
chats (key 0), taken in key order so that two sends never wait for each other in a cycle, it
checks the times of the last sends against the limits and, when they allow a message now,
records it. Otherwise it says how long to wait, and nothing is recorded. Times are the
database's clock, so the processes' clocks do not have to agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.platform.schema import telegram_pace

ALL_CHATS = 0  # the key of the overall limit (no chat has id 0)


@dataclass(frozen=True)
class PaceLimits:
    per_chat_interval: float  # seconds between two messages to one chat
    group_count: int  # messages per window to a group (negative chat ids)
    group_window: float
    overall_count: int  # messages per window to all chats together
    overall_window: float


# n: how many recent times a row keeps; w: that limit's window. A chat's newest time also
# gives the per-chat interval.
_TAKE = text(
    """
WITH now_ AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t),
cur AS (
    SELECT key, recent FROM telegram_pace WHERE key IN (CAST(:chat AS bigint), 0)
    ORDER BY key FOR UPDATE
),
lim AS (
    SELECT key, recent,
        CASE WHEN key = 0 THEN CAST(:all_count AS int)
             WHEN key < 0 THEN CAST(:group_count AS int) ELSE 1 END AS n,
        CASE WHEN key = 0 THEN CAST(:all_window AS float8)
             WHEN key < 0 THEN CAST(:group_window AS float8)
             ELSE CAST(:interval AS float8) END AS w
    FROM cur
),
due AS (
    SELECT GREATEST(
        (SELECT t FROM now_),
        MAX(CASE WHEN cardinality(recent) >= n THEN recent[n] + w END),
        MAX(CASE WHEN key <> 0 AND cardinality(recent) >= 1
                 THEN recent[1] + CAST(:interval AS float8) END)
    ) AS at, count(*) AS found
    FROM lim
),
upd AS (
    UPDATE telegram_pace p
    SET recent = (ARRAY[GREATEST(now_.t, COALESCE(lim.recent[1], 0))] || lim.recent)[1:lim.n]
    FROM lim, due, now_
    WHERE p.key = lim.key AND due.at <= now_.t AND due.found = 2
    RETURNING 1
)
SELECT due.at - now_.t AS wait, due.found AS found, (SELECT count(*) FROM upd) AS taken
FROM due, now_
"""
)


class TelegramPaceRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._known: set[int] = set()

    async def take(self, chat_id: int, limits: PaceLimits) -> float:
        """Take a sending slot for `chat_id` now (0.0), or the seconds until one may be free
        (nothing taken)."""
        params = {
            "chat": chat_id,
            "interval": limits.per_chat_interval,
            "group_count": limits.group_count,
            "group_window": limits.group_window,
            "all_count": limits.overall_count,
            "all_window": limits.overall_window,
        }
        for _ in range(2):
            if chat_id not in self._known:
                await self._ensure(chat_id)
            async with self.engine.begin() as conn:
                wait, found, taken = (await conn.execute(_TAKE, params)).one()
            if found == 2:
                return 0.0 if taken else max(float(wait), 0.001)
            self._known.discard(chat_id)  # its row was deleted meanwhile (`forget`)
        raise RuntimeError(f"telegram_pace: no row for chat {chat_id}")

    async def _ensure(self, chat_id: int) -> None:
        stmt = (
            postgresql.insert(telegram_pace)
            .values([{"key": chat_id, "recent": []}, {"key": ALL_CHATS, "recent": []}])
            .on_conflict_do_nothing()
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)
        self._known.add(chat_id)
        if len(self._known) > 100_000:
            self._known.clear()

    async def forget_idle(self, older_than: float) -> int:
        """Delete the rows of chats with no message in the last `older_than` seconds."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                text(
                    "DELETE FROM telegram_pace WHERE key <> 0 AND (cardinality(recent) = 0 OR "
                    "recent[1] < extract(epoch FROM clock_timestamp()) - :age)"
                ),
                {"age": older_than},
            )
        self._known.clear()
        return int(res.rowcount or 0)
