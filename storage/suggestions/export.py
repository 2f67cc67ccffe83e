"""What an owner's CSV export of suggestions and votes reads: every row of the community, hidden
and merged ones included (marked as such), in id order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.suggestions.schema import suggestions, votes

s = suggestions.c


async def suggestion_rows(engine: AsyncEngine, community_id: int) -> Sequence[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(
                s.id,
                s.title,
                s.details,
                s.category,
                s.status,
                s.status_note,
                s.votes,
                s.merged_into,
                s.hidden,
                s.author_id,
                s.created_at,
                s.updated_at,
            )
            .where(s.community_id == community_id)
            .order_by(s.id)
        )
        return result.all()


async def vote_rows(engine: AsyncEngine, community_id: int) -> Sequence[Any]:
    """(suggestion_id, account_id, created_at, merge_id) of every vote of the community."""
    v = votes.c
    async with engine.connect() as conn:
        result = await conn.execute(
            select(v.suggestion_id, v.account_id, v.created_at, v.merge_id)
            .join(suggestions, s.id == v.suggestion_id)
            .where(s.community_id == community_id)
            .order_by(v.suggestion_id, v.created_at, v.account_id)
        )
        return result.all()
