"""The votes of many members written together: one transaction per batch (group commit).

`VoteBatchStore.batch()` opens the transaction; in it the caller records the deliveries'
receipts (`processed_events`), reads the suggestions the batch is about and the votes already
on them (one SELECT each), decides, and writes every change with set-based statements: one
DELETE, one multi-row INSERT … ON CONFLICT DO NOTHING, and one counter UPDATE (executed once per
suggestion). The counts move by the rows the statements really deleted and inserted (RETURNING),
so a vote another process wrote at the same moment is never counted twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.platform.schema import processed_events
from storage.suggestions.posts import SuggestionRow, suggestion_query, suggestion_row
from storage.suggestions.schema import suggestions, votes

Pair = tuple[int, int]  # (suggestion id, account id)
Receipt = tuple[str, str]  # (platform, event id)

# A vote as found: its row exists, and whether a merge carried it over (and may take it back).
OWN, CARRIED = "own", "carried"

_COUNT = (
    update(suggestions)
    .where(suggestions.c.id == bindparam("sid"))
    .values(votes=suggestions.c.votes + bindparam("delta"))
)

# SQLite and PostgreSQL both take a few thousand bound parameters per statement; batches are
# smaller than this, but a long chain of writes is split rather than refused.
_CHUNK = 400


@dataclass(frozen=True)
class VoteChanges:
    """What one batch changes: votes to delete, own votes to insert, carried votes that become
    the member's own."""

    deleted: list[Pair]
    inserted: list[Pair]
    owned: list[Pair]


class VoteBatch:
    """One batch's transaction (see `VoteBatchStore.batch`)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.statements = 0

    async def record_receipts(self, receipts: Collection[Receipt], now: datetime) -> set[Receipt]:
        """Record the deliveries in `processed_events`; returns the ones not recorded before."""
        if not receipts:
            return set()
        insert = (
            postgresql.insert(processed_events)
            if self.conn.dialect.name == "postgresql"
            else sqlite.insert(processed_events)
        )
        stmt = insert.on_conflict_do_nothing().returning(
            processed_events.c.platform, processed_events.c.event_id
        )
        rows = [{"platform": p, "event_id": e, "created_at": now} for p, e in receipts]
        # One statement compiled once: SQLAlchemy sends the rows as one multi-row INSERT
        # ("insertmanyvalues"), in pages of up to a thousand.
        self.statements += 1
        res = await self.conn.execute(stmt, rows)
        return {(str(r.platform), str(r.event_id)) for r in res}

    async def suggestions(self, ids: Iterable[int]) -> dict[int, SuggestionRow]:
        """The suggestions with these ids (the ones that exist), with their vote counts."""
        wanted = sorted(set(ids))
        out: dict[int, SuggestionRow] = {}
        for start in range(0, len(wanted), _CHUNK):
            self.statements += 1
            q = suggestion_query().where(suggestions.c.id.in_(wanted[start : start + _CHUNK]))
            for r in await self.conn.execute(q):
                row = suggestion_row(r)
                out[row.id] = row
        return out

    async def votes(self, pairs: Iterable[Pair]) -> dict[Pair, str]:
        """Which of these (suggestion, account) votes exist: OWN or CARRIED (by a merge)."""
        wanted = sorted(set(pairs))
        out: dict[Pair, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            self.statements += 1
            q = select(votes.c.suggestion_id, votes.c.account_id, votes.c.merge_id).where(
                tuple_(votes.c.suggestion_id, votes.c.account_id).in_(
                    wanted[start : start + _CHUNK]
                )
            )
            for r in await self.conn.execute(q):
                out[(int(r.suggestion_id), int(r.account_id))] = (
                    OWN if r.merge_id is None else CARRIED
                )
        return out

    async def write(self, changes: VoteChanges, now: datetime) -> Counter[int]:
        """Apply the changes and move the counts; returns how each suggestion's count moved."""
        moved: Counter[int] = Counter()
        for chunk in _chunks(changes.deleted):
            self.statements += 1
            res = await self.conn.execute(
                delete(votes)
                .where(tuple_(votes.c.suggestion_id, votes.c.account_id).in_(chunk))
                .returning(votes.c.suggestion_id)
            )
            moved.subtract(int(sid) for sid in res.scalars())
        for chunk in _chunks(changes.owned):
            self.statements += 1
            await self.conn.execute(
                update(votes)
                .where(tuple_(votes.c.suggestion_id, votes.c.account_id).in_(chunk))
                .values(merge_id=None)
            )
        insert = (
            postgresql.insert(votes)
            if self.conn.dialect.name == "postgresql"
            else sqlite.insert(votes)
        )
        stmt = insert.on_conflict_do_nothing().returning(votes.c.suggestion_id)
        if changes.inserted:
            self.statements += 1
            rows = [
                {"suggestion_id": s, "account_id": a, "created_at": now}
                for s, a in changes.inserted
            ]
            res = await self.conn.execute(stmt, rows)
            moved.update(int(sid) for sid in res.scalars())
        deltas = [{"sid": sid, "delta": d} for sid, d in sorted(moved.items()) if d]
        if deltas:
            self.statements += 1
            await self.conn.execute(_COUNT, deltas)
        return moved


class VoteBatchStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[VoteBatch]:
        """One transaction for one batch of votes; it commits when the block ends, and an
        exception rolls it back whole."""
        async with self.engine.begin() as conn:
            yield VoteBatch(conn)


def _chunks(pairs: list[Pair]) -> Iterable[list[Pair]]:
    for start in range(0, len(pairs), _CHUNK):
        yield pairs[start : start + _CHUNK]
