"""Merges: a duplicate folded into its original (every voter once, undone exactly), and the
votes of two linked accounts folded into one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.suggestions.posts import SuggestionRow, add_event, add_to_count, get_row
from storage.suggestions.schema import drafts, merges, suggestion_events, suggestions, votes
from storage.util import insert_ignore, new_id


@dataclass(frozen=True)
class MergeResult:
    merge_id: int
    duplicate: SuggestionRow
    original: SuggestionRow
    added_votes: int
    duplicate_voters: list[int]


class MergeRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def merge(
        self, community_id: int, dup_id: int, orig_id: int, actor: int, now: datetime
    ) -> MergeResult:
        """Close the duplicate and give the original every voter it lacked (each once)."""
        async with self.engine.begin() as conn:
            dup = await get_row(conn, community_id, dup_id)
            res = await conn.execute(
                insert(merges).values(
                    duplicate_id=dup_id,
                    original_id=orig_id,
                    previous_status=dup.status,
                    merged_by=actor,
                    created_at=now,
                )
            )
            merge_id = new_id(res)
            dup_votes = (
                await conn.execute(
                    select(votes.c.account_id, votes.c.created_at).where(
                        votes.c.suggestion_id == dup_id
                    )
                )
            ).all()
            have = {
                int(r.account_id)
                for r in await conn.execute(
                    select(votes.c.account_id).where(votes.c.suggestion_id == orig_id)
                )
            }
            carried = [
                {
                    "suggestion_id": orig_id,
                    "account_id": r.account_id,
                    "created_at": r.created_at,
                    "merge_id": merge_id,
                }
                for r in dup_votes
                if int(r.account_id) not in have
            ]
            added = await insert_ignore(conn, votes, carried)
            await add_to_count(conn, orig_id, added)
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == dup_id)
                .values(status="duplicate", merged_into=orig_id, updated_at=now)
            )
            await add_event(
                conn, dup_id, actor, "merged", dup.status, "duplicate", f"#{orig_id}", now
            )
            return MergeResult(
                merge_id,
                await get_row(conn, community_id, dup_id),
                await get_row(conn, community_id, orig_id),
                added,
                [int(r.account_id) for r in dup_votes],
            )

    async def last_merge(self, dup_id: int) -> tuple[int, int, str] | None:
        """(merge id, original id, previous status) of the duplicate's merge still in force."""
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(merges.c.id, merges.c.original_id, merges.c.previous_status)
                    .where(merges.c.duplicate_id == dup_id, merges.c.undone_at.is_(None))
                    .order_by(merges.c.id.desc())
                )
            ).first()
            return (int(r.id), int(r.original_id), str(r.previous_status)) if r else None

    async def unmerge(
        self, community_id: int, dup_id: int, actor: int, now: datetime
    ) -> tuple[int, int]:
        """Reopen the duplicate and take back exactly the votes its merge carried over.
        Returns (original id, votes taken back)."""
        async with self.engine.begin() as conn:
            r = (
                await conn.execute(
                    select(merges.c.id, merges.c.original_id, merges.c.previous_status)
                    .where(merges.c.duplicate_id == dup_id, merges.c.undone_at.is_(None))
                    .order_by(merges.c.id.desc())
                )
            ).first()
            assert r is not None
            res = await conn.execute(delete(votes).where(votes.c.merge_id == r.id))
            await add_to_count(conn, int(r.original_id), -int(res.rowcount or 0))
            await conn.execute(update(merges).where(merges.c.id == r.id).values(undone_at=now))
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == dup_id)
                .values(status=r.previous_status, merged_into=None, updated_at=now)
            )
            await add_event(
                conn, dup_id, actor, "unmerged", "duplicate", r.previous_status, None, now
            )
            return int(r.original_id), int(res.rowcount or 0)


async def merge_suggestion_accounts(conn: AsyncConnection, from_id: int, to_id: int) -> None:
    """A linked person counts once: their two accounts' votes for one suggestion become one."""
    mine = select(votes.c.suggestion_id).where(votes.c.account_id == to_id).scalar_subquery()
    both = (
        (
            await conn.execute(
                select(votes.c.suggestion_id).where(
                    votes.c.account_id == from_id, votes.c.suggestion_id.in_(mine)
                )
            )
        )
        .scalars()
        .all()
    )
    if both:
        await conn.execute(
            delete(votes).where(votes.c.account_id == from_id, votes.c.suggestion_id.in_(both))
        )
        await conn.execute(
            update(suggestions)
            .where(suggestions.c.id.in_(both))
            .values(votes=suggestions.c.votes - 1)
        )
    await conn.execute(update(votes).where(votes.c.account_id == from_id).values(account_id=to_id))
    await conn.execute(
        update(suggestions).where(suggestions.c.author_id == from_id).values(author_id=to_id)
    )
    await conn.execute(
        update(drafts).where(drafts.c.account_id == from_id).values(account_id=to_id)
    )
    await conn.execute(
        update(suggestion_events)
        .where(suggestion_events.c.actor_id == from_id)
        .values(actor_id=to_id)
    )
    await conn.execute(update(merges).where(merges.c.merged_by == from_id).values(merged_by=to_id))
