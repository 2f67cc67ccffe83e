"""Discussion threads started from the bot's cards (Discord): which thread is about what, and
the cards a subject's thread may be started from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.platform.schema import message_refs
from storage.platform.thread_schema import discussion_threads
from storage.util import insert_ignore


@dataclass(frozen=True)
class ThreadRow:
    thread_id: str
    community_id: int
    subject: str
    parent_id: str
    message_id: str


class ThreadsRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def by_id(self, platform: str, thread_id: str) -> ThreadRow | None:
        t = discussion_threads
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(t).where(t.c.platform == platform, t.c.thread_id == thread_id)
                )
            ).first()
        return _row(r) if r is not None else None

    async def for_subject(self, platform: str, community_id: int, subject: str) -> ThreadRow | None:
        t = discussion_threads
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(t).where(
                        t.c.platform == platform,
                        t.c.community_id == community_id,
                        t.c.subject == subject,
                    )
                )
            ).first()
        return _row(r) if r is not None else None

    async def cards(
        self, platform: str, community_id: int, subject: str, limit: int = 5
    ) -> list[tuple[str, str]]:
        """The newest messages about `subject` (chat id, message id), newest first."""
        m = message_refs
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(m.c.chat_id, m.c.message_id)
                    .where(
                        m.c.platform == platform,
                        m.c.community_id == community_id,
                        m.c.subject == subject,
                    )
                    .order_by(m.c.created_at.desc(), m.c.message_id.desc())
                    .limit(limit)
                )
            ).all()
        return [(str(r.chat_id), str(r.message_id)) for r in rows]

    async def record(self, platform: str, row: ThreadRow, now: datetime) -> ThreadRow:
        """Keep a thread started; the one recorded first for its subject wins."""
        async with self.engine.begin() as conn:
            await insert_ignore(
                conn,
                discussion_threads,
                {
                    "platform": platform,
                    "thread_id": row.thread_id,
                    "community_id": row.community_id,
                    "subject": row.subject,
                    "parent_id": row.parent_id,
                    "message_id": row.message_id,
                    "created_at": now,
                },
            )
        kept = await self.for_subject(platform, row.community_id, row.subject)
        return kept or row


def _row(r: object) -> ThreadRow:
    return ThreadRow(
        thread_id=str(r.thread_id),  # type: ignore[attr-defined]
        community_id=int(r.community_id),  # type: ignore[attr-defined]
        subject=str(r.subject),  # type: ignore[attr-defined]
        parent_id=str(r.parent_id),  # type: ignore[attr-defined]
        message_id=str(r.message_id),  # type: ignore[attr-defined]
    )
