"""Votes: one per account per suggestion (the primary key), one transaction per vote.

Presses are committed in batches by the suggestion cog's vote writer
(`storage.suggestions.vote_batch`). A `VoteUnit` is the path before it, kept as the reference
the writer is checked and measured against: one connection, one transaction, in which the
service reads the suggestion (with its vote count) together with the member's own vote (one
SELECT per suggestion it looks at), adds or removes the vote and moves the count (two
statements; none when nothing changes).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.engine import is_sqlite
from storage.suggestions.posts import (
    SuggestionRow,
    add_to_count,
    suggestion_query,
    suggestion_row,
)
from storage.suggestions.schema import suggestions, votes
from storage.util import insert_ignore


def _target_query() -> Select[Any]:
    mine = votes.alias("mine")
    return (
        suggestion_query()
        .add_columns(mine.c.account_id.label("my_vote"), mine.c.merge_id.label("my_merge"))
        .outerjoin(
            mine,
            (mine.c.suggestion_id == suggestions.c.id)
            & (mine.c.account_id == bindparam("account_id")),
        )
        .where(
            suggestions.c.id == bindparam("sid"),
            suggestions.c.community_id == bindparam("community_id"),
        )
    )


# Built once: a vote runs these on every press.
_TARGET = _target_query()


@dataclass(frozen=True)
class Target:
    """A suggestion as one member's vote finds it: the row (with its vote count), whether the
    member's vote is on it, and whether that vote is one a merge carried over."""

    row: SuggestionRow
    voted: bool
    carried: bool


class VoteUnit:
    """One member's vote on one connection, inside one transaction (see `VoteRepo.unit`)."""

    def __init__(
        self,
        conn: AsyncConnection,
        account_id: int,
        now: datetime,
        gate: asyncio.Lock | None = None,
    ) -> None:
        self.conn = conn
        self.account_id = account_id
        self.now = now
        self._gate = gate
        self.holds_gate = False
        self._moved = 0

    async def _write(self) -> None:
        """Called before the first write: wait for this process's turn to write (SQLite)."""
        if self._gate is not None and not self.holds_gate:
            await self._gate.acquire()
            self.holds_gate = True

    async def target(self, community_id: int, sid: int) -> Target | None:
        """The suggestion and this member's vote on it, in one SELECT; None when unknown."""
        params = {"sid": sid, "community_id": community_id, "account_id": self.account_id}
        r = (await self.conn.execute(_TARGET, params)).first()
        if r is None:
            return None
        return Target(suggestion_row(r), r.my_vote is not None, r.my_merge is not None)

    async def add(self, target: Target) -> bool:
        """Vote for the target: True when the vote is new. A vote a merge carried over becomes
        the member's own, so an /unmerge no longer takes it back. Writes nothing when the
        member's own vote is already there."""
        sid = target.row.id
        if target.voted and not target.carried:
            return False
        await self._write()
        added = False
        if not target.voted:
            added = bool(
                await insert_ignore(
                    self.conn,
                    votes,
                    {"suggestion_id": sid, "account_id": self.account_id, "created_at": self.now},
                )
            )
        if added:
            await add_to_count(self.conn, sid, 1)
            self._moved += 1
        else:  # carried over by a merge (or cast a moment ago in another transaction)
            await self.conn.execute(
                update(votes)
                .where(votes.c.suggestion_id == sid, votes.c.account_id == self.account_id)
                .values(merge_id=None)
            )
        return added

    async def remove(self, target: Target) -> bool:
        """Take the member's vote back: True when there was one."""
        if not target.voted:
            return False
        await self._write()
        res = await self.conn.execute(
            delete(votes).where(
                votes.c.suggestion_id == target.row.id, votes.c.account_id == self.account_id
            )
        )
        removed = bool(res.rowcount)
        if removed:
            await add_to_count(self.conn, target.row.id, -1)
            self._moved -= 1
        return removed

    def counted(self, row: SuggestionRow) -> SuggestionRow:
        """The row with its vote count after this unit's change."""
        return dataclasses.replace(row, votes=row.votes + self._moved) if self._moved else row


class VoteRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite has one writer at a time: votes of this process take turns here, in order,
        # rather than in SQLite's busy handler, which sleeps and lets late comers overtake.
        self._gate = asyncio.Lock() if is_sqlite(engine) else None

    @asynccontextmanager
    async def unit(self, account_id: int, now: datetime) -> AsyncIterator[VoteUnit]:
        """One transaction for one member's vote; an exception rolls it back."""
        unit: VoteUnit | None = None
        try:
            async with self.engine.begin() as conn:
                unit = VoteUnit(conn, account_id, now, self._gate)
                yield unit
        finally:
            if unit is not None and unit.holds_gate:
                assert self._gate is not None
                self._gate.release()  # after the commit (or the rollback)

    async def voters(self, sid: int) -> list[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(votes.c.account_id)
                .where(votes.c.suggestion_id == sid)
                .order_by(votes.c.created_at)
            )
            return [int(r.account_id) for r in rows]
