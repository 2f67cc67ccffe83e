"""Suggestions' sentence embeddings, stored per model so a start reads them instead of
re-embedding the board. Vectors are bytes here (float16, little-endian); the index decodes them.
A row whose vector is empty (`SET_ASIDE`) marks a text the model cannot embed: its hash says
which text, so every process and every start leaves that text to its words until it is edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.suggestions.posts import PART
from storage.suggestions.schema import suggestion_vectors, suggestions

#: Rows written per statement.
_CHUNK = 500
#: The stored "vector" of a text the model cannot embed.
SET_ASIDE = b""


@dataclass(frozen=True)
class StoredText:
    """A suggestion as the index reads it on a start: its text and, when stored for the model
    asked about, its vector and the hash of the text the vector was made from."""

    id: int
    title: str
    details: str
    text_hash: str | None
    vector: bytes | None


class VectorRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def for_index(
        self, community_id: int, model: str, *, excluded_status: str
    ) -> list[StoredText]:
        """Every visible suggestion of the community not in `excluded_status`, with its vector
        under `model` where there is one (one query: a left join), read in parts, letting other
        tasks run between them (a board may hold 100,000)."""
        s, v = suggestions.c, suggestion_vectors.c
        q = (
            select(s.id, s.title, s.details, v.text_hash, v.vector)
            .select_from(
                suggestions.outerjoin(
                    suggestion_vectors, and_(v.suggestion_id == s.id, v.model == model)
                )
            )
            .where(
                s.community_id == community_id,
                s.hidden.is_(False),
                s.status != excluded_status,
            )
        )
        out: list[StoredText] = []
        async with self.engine.connect() as conn:
            result = await conn.stream(q)
            async for part in result.partitions(PART):
                out.extend(StoredText(r[0], r[1], r[2], r[3], r[4]) for r in part)
        return out

    async def stored(self, model: str, ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        """(text hash, vector) of the suggestions `ids` that have one under `model`."""
        v = suggestion_vectors.c
        out: dict[int, tuple[str, bytes]] = {}
        async with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                q = select(v.suggestion_id, v.text_hash, v.vector).where(
                    v.model == model, v.suggestion_id.in_(chunk)
                )
                for r in await conn.execute(q):
                    out[r.suggestion_id] = (r.text_hash, r.vector)
        return out

    async def save(self, model: str, rows: Sequence[tuple[int, str, bytes]]) -> int:
        """Store (suggestion id, text hash, vector) under `model`, replacing what was there.
        Suggestions deleted meanwhile are skipped. Returns how many rows were written."""
        if not rows:
            return 0
        v = suggestion_vectors.c
        written = 0
        async with self.engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                ids = [sid for sid, _, _ in chunk]
                alive = {
                    r.id
                    for r in await conn.execute(
                        select(suggestions.c.id).where(suggestions.c.id.in_(ids))
                    )
                }
                values = [
                    {"suggestion_id": sid, "model": model, "text_hash": h, "vector": vec}
                    for sid, h, vec in chunk
                    if sid in alive
                ]
                if values:
                    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                    stmt: Any = dialect.insert(suggestion_vectors)
                    stmt = stmt.on_conflict_do_update(
                        index_elements=[v.suggestion_id, v.model],
                        set_={"text_hash": stmt.excluded.text_hash, "vector": stmt.excluded.vector},
                    )
                    await conn.execute(stmt, values)
                    written += len(values)
        return written

    async def count(self, model: str) -> int:
        """Vectors stored under `model` (set-aside marks not counted)."""
        v = suggestion_vectors.c
        q = select(func.count()).where(v.model == model, func.length(v.vector) > 0)
        async with self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar_one())
