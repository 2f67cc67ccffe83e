"""Muted members: who may not suggest or vote in a community, until when, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.change_feed import publish
from storage.moderation.schema import mutes as m
from storage.util import insert_ignore

#: Change-feed topic: a community's mutes changed (`c`: the community).
TOPIC = "mute"


@dataclass(frozen=True)
class Mute:
    account_id: int
    until: datetime | None
    reason: str


class MuteRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def of_community(self, community_id: int, now: datetime) -> dict[int, Mute]:
        """The mutes in force at `now`."""
        query = select(m.c.account_id, m.c.until, m.c.reason).where(
            m.c.community_id == community_id, (m.c.until.is_(None)) | (m.c.until > now)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {r.account_id: Mute(r.account_id, r.until, r.reason) for r in rows}

    async def put(
        self,
        community_id: int,
        account_id: int,
        until: datetime | None,
        reason: str,
        by: int,
        now: datetime,
    ) -> None:
        """Mute (or change an existing mute: the new one replaces it)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(m).where(m.c.community_id == community_id, m.c.account_id == account_id)
            )
            await insert_ignore(
                conn,
                m,
                {
                    "community_id": community_id,
                    "account_id": account_id,
                    "until": until,
                    "reason": reason,
                    "muted_by": by,
                    "created_at": now,
                },
            )
            await publish(conn, TOPIC, {"c": community_id})

    async def lift(self, community_id: int, account_id: int, now: datetime) -> bool:
        """Lift a mute; False when none was in force."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(m)
                .where(m.c.community_id == community_id, m.c.account_id == account_id)
                .returning(m.c.until)
            )
            rows = res.all()
            await publish(conn, TOPIC, {"c": community_id})
        return any(r.until is None or r.until > now for r in rows)


async def merge_mute_accounts(conn: AsyncConnection, from_account: int, to_account: int) -> None:
    """A linked account's mutes become the surviving account's, where that one has none."""
    other = m.alias("other")
    taken = exists().where(
        and_(other.c.community_id == m.c.community_id, other.c.account_id == to_account)
    )
    await conn.execute(delete(m).where(m.c.account_id == from_account, taken))
    await conn.execute(
        update(m).where(m.c.account_id == from_account).values(account_id=to_account)
    )
    await publish(conn, TOPIC, {})
