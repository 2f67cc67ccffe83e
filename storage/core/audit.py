"""The audit log: what admins and owners did, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.core.schema import audit_log as al


@dataclass(frozen=True)
class AuditEntry:
    id: int
    community_id: int
    actor_id: int | None
    actor_name: str
    role: str
    platform: str
    kind: str  # command | button
    name: str
    args: list[list[Any]]  # [name, value] pairs, in the order of the command's parameters
    target_id: int | None
    created_at: datetime


class AuditRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(
        self,
        *,
        community_id: int,
        actor_id: int,
        actor_name: str,
        role: str,
        platform: str,
        kind: str,
        name: str,
        args: list[list[Any]],
        target_id: int | None,
        at: datetime,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(al).values(
                    community_id=community_id,
                    actor_id=actor_id,
                    actor_name=actor_name[:128],
                    role=role,
                    platform=platform,
                    kind=kind,
                    name=name[:64],
                    args=args,
                    target_id=target_id,
                    created_at=at,
                )
            )

    async def page(
        self, community_id: int, *, member: int | None = None, limit: int = 10, offset: int = 0
    ) -> tuple[list[AuditEntry], bool]:
        """Entries newest first (those `member` did or was the target of, when given), and
        whether more follow."""
        query = select(al).where(al.c.community_id == community_id)
        if member is not None:
            query = query.where(or_(al.c.actor_id == member, al.c.target_id == member))
        query = query.order_by(al.c.id.desc()).limit(limit + 1).offset(offset)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        entries = [AuditEntry(**row._mapping) for row in rows[:limit]]
        return entries, len(rows) > limit


async def merge_audit_accounts(conn: AsyncConnection, from_account: int, to_account: int) -> None:
    """A linked account's entries become the surviving account's."""
    await conn.execute(update(al).where(al.c.actor_id == from_account).values(actor_id=to_account))
    await conn.execute(
        update(al).where(al.c.target_id == from_account).values(target_id=to_account)
    )
