"""The review queue: posts held before publishing, and fans' reports of suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.moderation.schema import review_queue as q
from storage.util import insert_ignore, new_id

PENDING = "pending"


@dataclass(frozen=True)
class QueueItem:
    id: int
    community_id: int
    kind: str  # post | report
    state: str
    author_id: int
    title: str
    details: str
    category: str | None
    held_for: str
    draft_id: int | None
    suggestion_id: int | None
    note: str
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class QueueRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def hold(
        self,
        community_id: int,
        author_id: int,
        title: str,
        details: str,
        category: str | None,
        held_for: str,
        draft_id: int | None,
        now: datetime,
    ) -> QueueItem:
        """Hold a post; a draft already held returns its item."""
        values = {
            "community_id": community_id,
            "kind": "post",
            "author_id": author_id,
            "title": title,
            "details": details,
            "category": category,
            "held_for": held_for[:64],
            "draft_id": draft_id,
            "created_at": now,
        }
        async with self.engine.begin() as conn:
            if draft_id is None:
                where = q.c.id == new_id(await conn.execute(insert(q).values(**values)))
            else:
                await insert_ignore(conn, q, values)
                where = q.c.draft_id == draft_id
            row = (await conn.execute(select(q).where(where))).one()
            return QueueItem(**row._mapping)

    async def report(
        self, community_id: int, suggestion_id: int, author_id: int, note: str, now: datetime
    ) -> int | None:
        """A fan's report; None when this fan reported this suggestion before."""
        async with self.engine.begin() as conn:
            added = await insert_ignore(
                conn,
                q,
                {
                    "community_id": community_id,
                    "kind": "report",
                    "author_id": author_id,
                    "suggestion_id": suggestion_id,
                    "note": note,
                    "created_at": now,
                },
            )
            if not added:
                return None
            found = await conn.execute(
                select(q.c.id).where(
                    q.c.kind == "report",
                    q.c.suggestion_id == suggestion_id,
                    q.c.author_id == author_id,
                )
            )
            return int(found.scalar_one())

    async def get(self, community_id: int, item_id: int) -> QueueItem | None:
        query = select(q).where(q.c.community_id == community_id, q.c.id == item_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return QueueItem(**row._mapping) if row else None

    async def pending(
        self, community_id: int, *, limit: int = 10, offset: int = 0
    ) -> tuple[list[QueueItem], int]:
        """Pending items, oldest first, and how many are pending in all."""
        where = (q.c.community_id == community_id) & (q.c.state == PENDING)
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(q).where(where).order_by(q.c.id).limit(limit).offset(offset)
                )
            ).all()
            total = (
                await conn.execute(select(func.count()).select_from(q).where(where))
            ).scalar_one()
        return [QueueItem(**r._mapping) for r in rows], int(total)

    async def decide(
        self,
        community_id: int,
        item_id: int,
        state: str,
        by: int,
        note: str,
        now: datetime,
        *,
        suggestion_id: int | None = None,
    ) -> bool:
        """Move a pending item to `state`; False when it was no longer pending (decided by
        another admin meanwhile), so each item is decided once."""
        values: dict[str, object] = {
            "state": state,
            "decided_by": by,
            "decided_at": now,
            "decision_note": note,
        }
        if suggestion_id is not None:
            values["suggestion_id"] = suggestion_id
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(q)
                .where(q.c.community_id == community_id, q.c.id == item_id, q.c.state == PENDING)
                .values(**values)
            )
            return bool(res.rowcount)

    async def decide_suggestion(self, community_id: int, item_id: int, suggestion_id: int) -> None:
        """The suggestion an approved post became."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(q)
                .where(q.c.community_id == community_id, q.c.id == item_id)
                .values(suggestion_id=suggestion_id)
            )

    async def close_reports(
        self, community_id: int, suggestion_id: int, state: str, by: int, now: datetime
    ) -> list[int]:
        """Decide every pending report of a suggestion at once; the reporters' accounts."""
        where = (
            (q.c.community_id == community_id)
            & (q.c.kind == "report")
            & (q.c.suggestion_id == suggestion_id)
            & (q.c.state == PENDING)
        )
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(q)
                .where(where)
                .values(state=state, decided_by=by, decided_at=now)
                .returning(q.c.author_id)
            )
            return [r.author_id for r in res.all()]


async def merge_queue_accounts(conn: AsyncConnection, from_account: int, to_account: int) -> None:
    """A linked account's posts and reports become the surviving account's (a report both made
    of one suggestion is kept once)."""
    other = q.alias("other")
    dup = (
        select(other.c.id)
        .where(
            other.c.kind == "report",
            other.c.author_id == to_account,
            other.c.suggestion_id == q.c.suggestion_id,
        )
        .exists()
    )

    await conn.execute(delete(q).where(q.c.author_id == from_account, q.c.kind == "report", dup))
    await conn.execute(update(q).where(q.c.author_id == from_account).values(author_id=to_account))
    await conn.execute(
        update(q).where(q.c.decided_by == from_account).values(decided_by=to_account)
    )
