"""Telegram updates as received: stored before Telegram is told they arrived, marked once
handled, replayed after a restart when they were not (see docs/telegram.md, "Nothing fetched is
lost")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.platform.schema import telegram_inbox

# Rows per statement when marking updates handled (a bound parameter each; SQLite allows 32,766).
MARK_CHUNK = 1000


class TelegramInboxRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def store(
        self, updates: Sequence[dict[str, Any]], now: datetime, worker: int | None = None
    ) -> set[int]:
        """Store updates (as Telegram sent them) in one statement; the ids of those not stored
        before (the others are redeliveries, possibly to another process). `worker`: the
        process that handles them (several processes on PostgreSQL)."""
        if not updates:
            return set()
        rows = [
            {"update_id": int(u["update_id"]), "payload": u, "received_at": now, "worker": worker}
            for u in updates
        ]
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                stmt: Any = postgresql.insert(telegram_inbox).on_conflict_do_nothing()
            else:
                stmt = sqlite.insert(telegram_inbox).on_conflict_do_nothing()
            stmt = stmt.returning(telegram_inbox.c.update_id)
            if len(rows) == 1:
                res = await conn.execute(stmt.values(**rows[0]))
            else:
                res = await conn.execute(stmt, rows)
            return {int(r[0]) for r in res.all()}

    async def mark_handled(self, update_ids: Sequence[int], now: datetime) -> None:
        """Mark updates handled, in one transaction."""
        if not update_ids:
            return
        ids = sorted(set(update_ids))
        async with self.engine.begin() as conn:
            for start in range(0, len(ids), MARK_CHUNK):
                chunk = ids[start : start + MARK_CHUNK]
                await conn.execute(
                    update(telegram_inbox)
                    .where(telegram_inbox.c.update_id.in_(chunk))
                    .values(handled_at=now)
                )

    async def unhandled(self, limit: int = 1000, after: int | None = None) -> list[dict[str, Any]]:
        """Updates stored but not handled (a restart replays them), oldest first."""
        query = select(telegram_inbox.c.payload).where(telegram_inbox.c.handled_at.is_(None))
        if after is not None:
            query = query.where(telegram_inbox.c.update_id > after)
        query = query.order_by(telegram_inbox.c.update_id).limit(limit)
        async with self.engine.connect() as conn:
            return [dict(r[0]) for r in (await conn.execute(query)).all()]

    async def forget_handled_before(self, when: datetime) -> int:
        """Delete handled updates received before `when`."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(telegram_inbox).where(
                    telegram_inbox.c.handled_at.is_not(None), telegram_inbox.c.received_at < when
                )
            )
            return int(res.rowcount or 0)

    async def counts(self) -> tuple[int, int]:
        """(stored, handled): for tests and the benchmark."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.count(telegram_inbox.c.handled_at)).select_from(
                        telegram_inbox
                    )
                )
            ).one()
            return int(row[0]), int(row[1])
