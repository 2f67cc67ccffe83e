"""Suggestions repository: posts, one vote per account, merges that can be undone exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.schema.suggestions import drafts, merges, suggestion_events, suggestions, votes
from storage.util import insert_ignore, new_id

OPEN_STATUSES = ("new", "under_review", "planned", "in_progress")


@dataclass(frozen=True)
class SuggestionRow:
    id: int
    community_id: int
    author_id: int
    title: str
    details: str
    category: str | None
    status: str
    status_note: str | None
    hidden: bool
    merged_into: int | None
    created_at: datetime
    updated_at: datetime
    votes: int

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class MergeResult:
    merge_id: int
    duplicate: SuggestionRow
    original: SuggestionRow
    added_votes: int
    duplicate_voters: list[int]


@dataclass(frozen=True)
class DraftRow:
    id: int
    community_id: int
    account_id: int
    title: str
    details: str
    category: str | None
    posted_id: int | None


_vote_count = (
    select(func.count())
    .where(votes.c.suggestion_id == suggestions.c.id)
    .correlate(suggestions)
    .scalar_subquery()
    .label("votes")
)


def _select() -> Select[tuple]:
    return select(suggestions, _vote_count)


def _row(r: object) -> SuggestionRow:
    m = r._mapping  # type: ignore[attr-defined]
    return SuggestionRow(
        id=m["id"],
        community_id=m["community_id"],
        author_id=m["author_id"],
        title=m["title"],
        details=m["details"],
        category=m["category"],
        status=m["status"],
        status_note=m["status_note"],
        hidden=bool(m["hidden"]),
        merged_into=m["merged_into"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        votes=int(m["votes"] or 0),
    )


class _AlreadyPosted(Exception):
    pass


class SuggestionRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self,
        community_id: int,
        author_id: int,
        title: str,
        details: str,
        category: str | None,
        now: datetime,
    ) -> SuggestionRow:
        """Post a suggestion; its author's own vote comes with it."""
        async with self.engine.begin() as conn:
            return await self._create(conn, community_id, author_id, title, details, category, now)

    async def _create(
        self,
        conn: AsyncConnection,
        community_id: int,
        author_id: int,
        title: str,
        details: str,
        category: str | None,
        now: datetime,
    ) -> SuggestionRow:
        res = await conn.execute(
            insert(suggestions).values(
                community_id=community_id,
                author_id=author_id,
                title=title,
                details=details,
                category=category,
                status="new",
                created_at=now,
                updated_at=now,
            )
        )
        sid = new_id(res)
        await conn.execute(
            insert(votes).values(suggestion_id=sid, account_id=author_id, created_at=now)
        )
        await self._event(conn, sid, author_id, "created", None, "new", None, now)
        return await self._get(conn, community_id, sid)

    async def get(self, community_id: int, sid: int) -> SuggestionRow | None:
        async with self.engine.connect() as conn:
            return await self._get_or_none(conn, community_id, sid)

    async def _get_or_none(
        self, conn: AsyncConnection, community_id: int, sid: int
    ) -> SuggestionRow | None:
        r = (
            await conn.execute(
                _select().where(suggestions.c.id == sid, suggestions.c.community_id == community_id)
            )
        ).first()
        return _row(r) if r else None

    async def _get(self, conn: AsyncConnection, community_id: int, sid: int) -> SuggestionRow:
        row = await self._get_or_none(conn, community_id, sid)
        assert row is not None
        return row

    async def find(
        self,
        community_id: int,
        *,
        statuses: Sequence[str] | None = None,
        author_id: int | None = None,
        include_hidden: bool = False,
        newest_first: bool = True,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[SuggestionRow]:
        q = _select().where(suggestions.c.community_id == community_id)
        if statuses is not None:
            q = q.where(suggestions.c.status.in_(list(statuses)))
        if author_id is not None:
            q = q.where(suggestions.c.author_id == author_id)
        if not include_hidden:
            q = q.where(suggestions.c.hidden.is_(False))
        if ids is not None:
            q = q.where(suggestions.c.id.in_(list(ids)))
        q = q.order_by(suggestions.c.id.desc() if newest_first else suggestions.c.id)
        if limit:
            q = q.limit(limit)
        async with self.engine.connect() as conn:
            return [_row(r) for r in await conn.execute(q)]

    async def all_for_index(
        self, community_id: int | None = None
    ) -> list[tuple[int, int, str, str]]:
        """(id, community, title, details) of every visible, unmerged suggestion."""
        q = select(
            suggestions.c.id, suggestions.c.community_id, suggestions.c.title, suggestions.c.details
        ).where(suggestions.c.hidden.is_(False), suggestions.c.status != "duplicate")
        if community_id is not None:
            q = q.where(suggestions.c.community_id == community_id)
        async with self.engine.connect() as conn:
            return [(r.id, r.community_id, r.title, r.details) for r in await conn.execute(q)]

    async def vote_times(
        self, community_id: int, statuses: Sequence[str]
    ) -> list[tuple[int, datetime]]:
        q = (
            select(votes.c.suggestion_id, votes.c.created_at)
            .join(suggestions, suggestions.c.id == votes.c.suggestion_id)
            .where(
                suggestions.c.community_id == community_id,
                suggestions.c.status.in_(list(statuses)),
                suggestions.c.hidden.is_(False),
            )
        )
        async with self.engine.connect() as conn:
            return [(r.suggestion_id, r.created_at) for r in await conn.execute(q)]

    # -- votes -----------------------------------------------------------------------------

    async def add_vote(self, sid: int, account_id: int, now: datetime) -> bool:
        """One vote per account: True when the vote is new. A vote a merge carried over becomes
        the member's own, so an /unmerge no longer takes it back."""
        async with self.engine.begin() as conn:
            added = await insert_ignore(
                conn, votes, {"suggestion_id": sid, "account_id": account_id, "created_at": now}
            )
            if not added:
                await conn.execute(
                    update(votes)
                    .where(votes.c.suggestion_id == sid, votes.c.account_id == account_id)
                    .values(merge_id=None)
                )
            return bool(added)

    async def remove_vote(self, sid: int, account_id: int) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(votes).where(votes.c.suggestion_id == sid, votes.c.account_id == account_id)
            )
            return bool(res.rowcount)

    async def has_vote(self, sid: int, account_id: int) -> bool:
        async with self.engine.connect() as conn:
            r = await conn.execute(
                select(votes.c.account_id).where(
                    votes.c.suggestion_id == sid, votes.c.account_id == account_id
                )
            )
            return r.first() is not None

    async def voters(self, sid: int) -> list[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(votes.c.account_id)
                .where(votes.c.suggestion_id == sid)
                .order_by(votes.c.created_at)
            )
            return [int(r.account_id) for r in rows]

    async def count_votes(self, sid: int) -> int:
        async with self.engine.connect() as conn:
            r = await conn.execute(select(func.count()).where(votes.c.suggestion_id == sid))
            return int(r.scalar() or 0)

    # -- status, hiding, merging ---------------------------------------------------------

    async def set_status(
        self, community_id: int, sid: int, status: str, note: str | None, actor: int, now: datetime
    ) -> tuple[str, SuggestionRow]:
        async with self.engine.begin() as conn:
            old = await self._get(conn, community_id, sid)
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid)
                .values(status=status, status_note=note, updated_at=now)
            )
            await self._event(conn, sid, actor, "status", old.status, status, note, now)
            return old.status, await self._get(conn, community_id, sid)

    async def set_hidden(
        self, community_id: int, sid: int, hidden: bool, actor: int, now: datetime
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid, suggestions.c.community_id == community_id)
                .values(hidden=hidden, updated_at=now)
            )
            await self._event(
                conn, sid, actor, "hidden" if hidden else "shown", None, None, None, now
            )

    async def merge(
        self, community_id: int, dup_id: int, orig_id: int, actor: int, now: datetime
    ) -> MergeResult:
        """Close the duplicate and give the original every voter it lacked (each once)."""
        async with self.engine.begin() as conn:
            dup = await self._get(conn, community_id, dup_id)
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
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == dup_id)
                .values(status="duplicate", merged_into=orig_id, updated_at=now)
            )
            await self._event(
                conn, dup_id, actor, "merged", dup.status, "duplicate", f"#{orig_id}", now
            )
            return MergeResult(
                merge_id,
                await self._get(conn, community_id, dup_id),
                await self._get(conn, community_id, orig_id),
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
            await conn.execute(update(merges).where(merges.c.id == r.id).values(undone_at=now))
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == dup_id)
                .values(status=r.previous_status, merged_into=None, updated_at=now)
            )
            await self._event(
                conn, dup_id, actor, "unmerged", "duplicate", r.previous_status, None, now
            )
            return int(r.original_id), int(res.rowcount or 0)

    async def _event(
        self,
        conn: AsyncConnection,
        sid: int,
        actor: int,
        kind: str,
        old: str | None,
        new: str | None,
        note: str | None,
        now: datetime,
    ) -> None:
        await conn.execute(
            insert(suggestion_events).values(
                suggestion_id=sid,
                actor_id=actor,
                kind=kind,
                old=old,
                new=new,
                note=note,
                created_at=now,
            )
        )

    # -- drafts ----------------------------------------------------------------------------

    async def save_draft(
        self,
        community_id: int,
        account_id: int,
        title: str,
        details: str,
        category: str | None,
        now: datetime,
    ) -> int:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                insert(drafts).values(
                    community_id=community_id,
                    account_id=account_id,
                    title=title,
                    details=details,
                    category=category,
                    created_at=now,
                )
            )
            return new_id(res)

    async def draft(self, draft_id: int) -> DraftRow | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(drafts).where(drafts.c.id == draft_id))).first()
            if r is None:
                return None
            return DraftRow(
                r.id, r.community_id, r.account_id, r.title, r.details, r.category, r.posted_id
            )

    async def post_draft(self, draft: DraftRow, now: datetime) -> SuggestionRow | None:
        """Post a draft once: a second press (or a redelivered one) finds it posted: None."""
        try:
            async with self.engine.begin() as conn:
                row = await self._create(
                    conn,
                    draft.community_id,
                    draft.account_id,
                    draft.title,
                    draft.details,
                    draft.category,
                    now,
                )
                res = await conn.execute(
                    update(drafts)
                    .where(drafts.c.id == draft.id, drafts.c.posted_id.is_(None))
                    .values(posted_id=row.id)
                )
                if not res.rowcount:
                    raise _AlreadyPosted
                return row
        except _AlreadyPosted:
            return None


async def merge_suggestion_accounts(conn: AsyncConnection, from_id: int, to_id: int) -> None:
    """A linked person counts once: their two accounts' votes for one suggestion become one."""
    mine = select(votes.c.suggestion_id).where(votes.c.account_id == to_id).scalar_subquery()
    await conn.execute(
        delete(votes).where(votes.c.account_id == from_id, votes.c.suggestion_id.in_(mine))
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


async def count_in_community(conn: AsyncConnection, community_id: int) -> int:
    r = await conn.execute(select(func.count()).where(suggestions.c.community_id == community_id))
    return int(r.scalar() or 0)
