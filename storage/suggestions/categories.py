"""The categories a community declares, and the category each suggestion is in.

A suggestion holds its category's name as declared (`suggestions.category`); names are compared
by `name_key`, which the caller folds (the rule is the feature's). Removing a category leaves
its suggestions and drafts without one, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.suggestions.posts import SuggestionRow, add_event, get_row
from storage.suggestions.schema import categories, drafts, suggestions
from storage.util import new_id


@dataclass(frozen=True)
class CategoryRow:
    id: int
    community_id: int
    name: str


class CategoryExists(Exception):
    """Another category of the community has the same name (folded)."""


class CategoryRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self, community_id: int) -> list[CategoryRow]:
        q = (
            select(categories.c.id, categories.c.community_id, categories.c.name)
            .where(categories.c.community_id == community_id)
            .order_by(categories.c.name_key, categories.c.id)
        )
        async with self.engine.connect() as conn:
            return [CategoryRow(r.id, r.community_id, r.name) for r in await conn.execute(q)]

    async def get(self, community_id: int, category_id: int) -> CategoryRow | None:
        q = select(categories.c.id, categories.c.community_id, categories.c.name).where(
            categories.c.id == category_id, categories.c.community_id == community_id
        )
        async with self.engine.connect() as conn:
            r = (await conn.execute(q)).first()
        return CategoryRow(r.id, r.community_id, r.name) if r else None

    async def find(self, community_id: int, name_key: str) -> CategoryRow | None:
        q = select(categories.c.id, categories.c.community_id, categories.c.name).where(
            categories.c.community_id == community_id, categories.c.name_key == name_key
        )
        async with self.engine.connect() as conn:
            r = (await conn.execute(q)).first()
        return CategoryRow(r.id, r.community_id, r.name) if r else None

    async def add(
        self, community_id: int, name: str, name_key: str, limit: int, now: datetime
    ) -> CategoryRow | None:
        """Declare a category; None when the community has `limit` already. Raises
        `CategoryExists` when the name is taken (the unique key decides, under any race)."""
        try:
            async with self.engine.begin() as conn:
                count = (
                    await conn.execute(
                        select(func.count()).where(categories.c.community_id == community_id)
                    )
                ).scalar_one()
                if count >= limit:
                    return None
                res = await conn.execute(
                    insert(categories).values(
                        community_id=community_id, name=name, name_key=name_key, created_at=now
                    )
                )
                return CategoryRow(new_id(res), community_id, name)
        except IntegrityError:
            raise CategoryExists from None

    async def remove(self, community_id: int, name_key: str) -> tuple[CategoryRow, int] | None:
        """Remove a category: (it, how many suggestions it left without one); None if unknown."""
        async with self.engine.begin() as conn:
            r = (
                await conn.execute(
                    select(categories.c.id, categories.c.name).where(
                        categories.c.community_id == community_id,
                        categories.c.name_key == name_key,
                    )
                )
            ).first()
            if r is None:
                return None
            await conn.execute(delete(categories).where(categories.c.id == r.id))
            res = await conn.execute(
                update(suggestions)
                .where(suggestions.c.community_id == community_id, suggestions.c.category == r.name)
                .values(category=None)
            )
            await conn.execute(
                update(drafts)
                .where(drafts.c.community_id == community_id, drafts.c.category == r.name)
                .values(category=None)
            )
            return CategoryRow(r.id, community_id, r.name), int(res.rowcount or 0)

    async def set_draft(
        self, community_id: int, draft_id: int, account_id: int, category: str | None
    ) -> bool:
        """Put a draft not posted yet in a category (or none); False if there is no such draft."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(drafts)
                .where(
                    drafts.c.id == draft_id,
                    drafts.c.community_id == community_id,
                    drafts.c.account_id == account_id,
                    drafts.c.posted_id.is_(None),
                )
                .values(category=category)
            )
            return bool(res.rowcount)

    async def set_suggestion(
        self,
        community_id: int,
        sid: int,
        category: str | None,
        actor: int,
        now: datetime,
    ) -> tuple[str | None, SuggestionRow]:
        """Move a suggestion to another category (or none): (the one it was in, the row)."""
        async with self.engine.begin() as conn:
            old = await get_row(conn, community_id, sid)
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid)
                .values(category=category, updated_at=now)
            )
            await add_event(conn, sid, actor, "category", None, None, category, now)
            return old.category, await get_row(conn, community_id, sid)
