"""Rows written straight into a scratch database for the benchmarks: in chunks, one
transaction each, and a community's members (console accounts `m1`, `m2`, …)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core.schema import accounts, identities, members

CHUNK = 5000


async def insert_chunked(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with engine.begin() as conn:
            await conn.execute(insert(table), rows[start : start + CHUNK])


async def seed_members(
    engine: AsyncEngine, community_id: int, ids: Sequence[int], since: datetime
) -> None:
    """Accounts `ids`, each a console identity `m<id>` and a member of the community."""
    await insert_chunked(engine, accounts, [{"id": a, "created_at": since} for a in ids])
    await insert_chunked(
        engine,
        identities,
        [
            {
                "platform": "console",
                "platform_user_id": f"m{a}",
                "account_id": a,
                "display_name": f"m{a}",
                "created_at": since,
            }
            for a in ids
        ],
    )
    await insert_chunked(
        engine,
        members,
        [
            {
                "community_id": community_id,
                "account_id": a,
                "joined_at": since,
                "last_seen_at": since,
            }
            for a in ids
        ],
    )
