"""Per-community settings: one row per (community, key), JSON values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import community_settings as cs


class SettingsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self, community_id: int) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(cs.c.key, cs.c.value).where(cs.c.community_id == community_id)
            )
            return {r.key: r.value for r in rows}

    async def with_key(self, key: str) -> dict[int, Any]:
        """{community: value} of every community that stored `key`."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(cs.c.community_id, cs.c.value).where(cs.c.key == key))
            return {int(r.community_id): r.value for r in rows}

    async def put(self, community_id: int, key: str, value: Any) -> None:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(cs)
                .where(cs.c.community_id == community_id, cs.c.key == key)
                .values(value=value)
            )
            if res.rowcount == 0:
                await conn.execute(
                    insert(cs).values(community_id=community_id, key=key, value=value)
                )

    async def remove(self, community_id: int, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(cs).where(cs.c.community_id == community_id, cs.c.key == key))
