"""Each community's filtered words (stored case-folded)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.moderation.schema import filter_words as fw
from storage.util import insert_ignore


class WordRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def words(self, community_id: int) -> list[str]:
        query = select(fw.c.word).where(fw.c.community_id == community_id).order_by(fw.c.word)
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def count(self, community_id: int) -> int:
        query = select(func.count()).select_from(fw).where(fw.c.community_id == community_id)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def add(self, community_id: int, word: str, by: int, now: datetime) -> bool:
        """False when the word was listed already."""
        async with self.engine.begin() as conn:
            row = {"community_id": community_id, "word": word, "added_by": by, "created_at": now}
            return await insert_ignore(conn, fw, row) == 1

    async def remove(self, community_id: int, word: str) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(fw).where(fw.c.community_id == community_id, fw.c.word == word)
            )
            return bool(res.rowcount)
