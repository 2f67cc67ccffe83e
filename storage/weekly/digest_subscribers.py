"""Who receives the daily admin digest, per community."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.util import insert_ignore
from storage.weekly.schema import digest_subscribers


class DigestSubscribersRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def subscribe(self, community_id: int, account_id: int, on: bool, now: datetime) -> bool:
        """True when this changed anything."""
        async with self.engine.begin() as conn:
            if on:
                row = {"community_id": community_id, "account_id": account_id, "created_at": now}
                return bool(await insert_ignore(conn, digest_subscribers, row))
            res = await conn.execute(
                delete(digest_subscribers).where(
                    digest_subscribers.c.community_id == community_id,
                    digest_subscribers.c.account_id == account_id,
                )
            )
            return bool(res.rowcount)

    async def subscribers(self, community_id: int) -> list[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(digest_subscribers.c.account_id)
                .where(digest_subscribers.c.community_id == community_id)
                .order_by(digest_subscribers.c.account_id)
            )
            return [int(a) for a in rows.scalars()]


async def merge_subscriber_accounts(
    conn: AsyncConnection, from_account: int, to_account: int
) -> None:
    """Re-point one account's subscriptions onto another (once per community)."""
    both = select(digest_subscribers.c.community_id).where(
        digest_subscribers.c.account_id == to_account
    )
    await conn.execute(
        delete(digest_subscribers).where(
            digest_subscribers.c.account_id == from_account,
            digest_subscribers.c.community_id.in_(both),
        )
    )
    await conn.execute(
        update(digest_subscribers)
        .where(digest_subscribers.c.account_id == from_account)
        .values(account_id=to_account)
    )
