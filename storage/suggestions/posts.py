"""Suggestions: posts, statuses, hiding and drafts. Votes are in `storage.suggestions.votes`,
merges (of duplicates and of linked accounts) in `storage.suggestions.merges`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.change_feed import publish
from storage.core.retention import purge_rows
from storage.suggestions.schema import drafts, suggestion_events, suggestions, votes
from storage.util import new_id

#: The change-feed topic of suggestion changes (storage/change_feed.py): every event recorded
#: (`add_event`: posted, status, merged, unmerged, hidden, shown, edited, deleted, restored,
#: response) publishes {"id": sid}.
TOPIC = "suggestion"
# Rows read per part when a whole board is read (`board_entries`, `vote_seconds`, the
# similarity index's `all_for_index` and `VectorRepo.for_index`).
PART = 1000


@dataclass(frozen=True)
class IndexRow:
    """What the similar-suggestion index needs of a suggestion."""

    id: int
    community_id: int
    title: str
    details: str
    status: str
    hidden: bool


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
    edited_at: datetime | None = None
    # Soft-deleted (and hidden with it) until an admin restores it.
    deleted_at: datetime | None = None
    response: str | None = None
    response_at: datetime | None = None
    anonymous: bool = False

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class EventRow:
    """One entry of a suggestion's history (`suggestion_events`)."""

    kind: str  # created | status | merged | unmerged | hidden | shown
    old: str | None
    new: str | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class BoardEntry:
    """What ranking and filtering a board needs of a suggestion (no text)."""

    id: int
    status: str
    category: str | None
    votes: int


@dataclass(frozen=True)
class BoardSignature:
    """What moves whenever a community's board may read differently: a post, a vote, a status,
    a merge, hiding (`updated_at`, the vote counts, the newest id)."""

    count: int
    votes: int
    newest_id: int
    updated_at: str


@dataclass(frozen=True)
class DraftRow:
    id: int
    community_id: int
    account_id: int
    title: str
    details: str
    category: str | None
    posted_id: int | None


def suggestion_query() -> Select[tuple]:
    """Suggestions with their vote count, the `votes` column (read with `suggestion_row`)."""
    return select(suggestions)


def suggestion_row(r: object) -> SuggestionRow:
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
        edited_at=m["edited_at"],
        deleted_at=m["deleted_at"],
        response=m["response"],
        response_at=m["response_at"],
        anonymous=bool(m["anonymous"]),
    )


async def find_row(conn: AsyncConnection, community_id: int, sid: int) -> SuggestionRow | None:
    r = (
        await conn.execute(
            suggestion_query().where(
                suggestions.c.id == sid, suggestions.c.community_id == community_id
            )
        )
    ).first()
    return suggestion_row(r) if r else None


async def get_row(conn: AsyncConnection, community_id: int, sid: int) -> SuggestionRow:
    row = await find_row(conn, community_id, sid)
    assert row is not None
    return row


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
        *,
        anonymous: bool = False,
    ) -> SuggestionRow:
        """Post a suggestion; its author's own vote comes with it."""
        async with self.engine.begin() as conn:
            return await self._create(
                conn, community_id, author_id, title, details, category, now, anonymous
            )

    async def _create(
        self,
        conn: AsyncConnection,
        community_id: int,
        author_id: int,
        title: str,
        details: str,
        category: str | None,
        now: datetime,
        anonymous: bool = False,
    ) -> SuggestionRow:
        res = await conn.execute(
            insert(suggestions).values(
                community_id=community_id,
                author_id=author_id,
                title=title,
                details=details,
                category=category,
                status="new",
                votes=1,  # the author's own, inserted below
                anonymous=anonymous,
                created_at=now,
                updated_at=now,
            )
        )
        sid = new_id(res)
        await conn.execute(
            insert(votes).values(suggestion_id=sid, account_id=author_id, created_at=now)
        )
        await add_event(conn, sid, author_id, "created", None, "new", None, now)
        return await get_row(conn, community_id, sid)

    async def any_in_community(self, community_id: int) -> bool:
        """Whether the community has any suggestion at all (hidden and merged ones included)."""
        q = select(func.count()).where(suggestions.c.community_id == community_id)
        async with self.engine.connect() as conn:
            return bool((await conn.execute(q)).scalar())

    async def get(self, community_id: int, sid: int) -> SuggestionRow | None:
        async with self.engine.connect() as conn:
            return await find_row(conn, community_id, sid)

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
        category: str | None = None,
    ) -> list[SuggestionRow]:
        q = suggestion_query().where(suggestions.c.community_id == community_id)
        if category is not None:
            q = q.where(suggestions.c.category == category)
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
            return [suggestion_row(r) for r in await conn.execute(q)]

    async def all_for_index(
        self, community_id: int | None = None, *, excluded_status: str
    ) -> list[tuple[int, int, str, str]]:
        """(id, community, title, details) of every visible suggestion not in `excluded_status`
        (the duplicates, which a merge closed), read in parts as `board_entries`."""
        q = select(
            suggestions.c.id, suggestions.c.community_id, suggestions.c.title, suggestions.c.details
        ).where(suggestions.c.hidden.is_(False), suggestions.c.status != excluded_status)
        if community_id is not None:
            q = q.where(suggestions.c.community_id == community_id)
        out: list[tuple[int, int, str, str]] = []
        async with self.engine.connect() as conn:
            result = await conn.stream(q)
            async for part in result.partitions(PART):
                out.extend((r[0], r[1], r[2], r[3]) for r in part)
        return out

    async def index_rows(self, ids: Sequence[int]) -> list[IndexRow]:
        """The suggestions `ids` as the index sees them (any community, hidden ones too)."""
        if not ids:
            return []
        c = suggestions.c
        q = select(c.id, c.community_id, c.title, c.details, c.status, c.hidden).where(
            c.id.in_(list(ids))
        )
        async with self.engine.connect() as conn:
            return [
                IndexRow(r.id, r.community_id, r.title, r.details, r.status, bool(r.hidden))
                for r in await conn.execute(q)
            ]

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

    async def history(self, sid: int) -> list[EventRow]:
        """What happened to a suggestion, oldest first."""
        e = suggestion_events.c
        q = (
            select(e.kind, e.old, e.new, e.note, e.created_at)
            .where(e.suggestion_id == sid)
            .order_by(e.created_at, e.id)
        )
        async with self.engine.connect() as conn:
            return [
                EventRow(r.kind, r.old, r.new, r.note, r.created_at) for r in await conn.execute(q)
            ]

    async def vote_dates(self, sid: int) -> list[datetime]:
        """When each of a suggestion's votes was cast (carried-over votes: when first cast)."""
        q = select(votes.c.created_at).where(votes.c.suggestion_id == sid)
        async with self.engine.connect() as conn:
            return sorted(r[0] for r in await conn.execute(q))

    async def merged_into(self, community_id: int, sid: int) -> list[SuggestionRow]:
        """The visible suggestions merged into `sid` (its duplicates), oldest first."""
        c = suggestions.c
        q = suggestion_query().where(
            c.community_id == community_id, c.merged_into == sid, c.hidden.is_(False)
        )
        async with self.engine.connect() as conn:
            return [suggestion_row(r) for r in await conn.execute(q.order_by(c.id))]

    async def board_entries(self, community_id: int, statuses: Sequence[str]) -> list[BoardEntry]:
        """The visible suggestions in `statuses`, light (`BoardEntry`). Read in parts, letting
        other tasks run between them (a board may hold 100,000)."""
        c = suggestions.c
        q = select(c.id, c.status, c.category, c.votes).where(
            c.community_id == community_id, c.status.in_(list(statuses)), c.hidden.is_(False)
        )
        out: list[BoardEntry] = []
        async with self.engine.connect() as conn:
            result = await conn.stream(q)
            async for part in result.partitions(PART):
                out.extend(BoardEntry(r[0], r[1], r[2], r[3]) for r in part)
        return out

    async def vote_seconds(
        self, community_id: int, statuses: Sequence[str]
    ) -> list[tuple[int, float]]:
        """(suggestion, when, in seconds since 1970) of every vote for the visible suggestions
        in `statuses`: `vote_times`, read as plain numbers and in parts, for a large board."""
        out: list[tuple[int, float]] = []
        async with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                seconds: Any = (func.julianday(votes.c.created_at) - 2440587.5) * 86400.0
            else:
                seconds = func.extract("epoch", votes.c.created_at)
            q = (
                select(votes.c.suggestion_id, seconds)
                .join(suggestions, suggestions.c.id == votes.c.suggestion_id)
                .where(
                    suggestions.c.community_id == community_id,
                    suggestions.c.status.in_(list(statuses)),
                    suggestions.c.hidden.is_(False),
                )
            )
            result = await conn.stream(q)
            async for part in result.partitions(PART):
                out.extend((r[0], float(r[1])) for r in part)
        return out

    async def visible(self, community_id: int, ids: Sequence[int]) -> dict[int, SuggestionRow]:
        """The suggestions `ids` of the community that are not hidden, by id (looked up by
        their keys: a page of a large board)."""
        if not ids:
            return {}
        q = suggestion_query().where(suggestions.c.id.in_(list(ids)))
        async with self.engine.connect() as conn:
            rows = [suggestion_row(r) for r in await conn.execute(q)]
        return {r.id: r for r in rows if r.community_id == community_id and not r.hidden}

    async def board_signature(self, community_id: int) -> BoardSignature:
        c = suggestions.c
        q = select(
            func.count(),
            func.coalesce(func.sum(c.votes), 0),
            func.max(c.id),
            func.max(c.updated_at),
        ).where(c.community_id == community_id)
        async with self.engine.connect() as conn:
            r = (await conn.execute(q)).one()
        return BoardSignature(int(r[0]), int(r[1] or 0), int(r[2] or 0), str(r[3]))

    # -- status and hiding -----------------------------------------------------------------

    async def set_status(
        self, community_id: int, sid: int, status: str, note: str | None, actor: int, now: datetime
    ) -> tuple[str, SuggestionRow]:
        async with self.engine.begin() as conn:
            old = await get_row(conn, community_id, sid)
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid)
                .values(status=status, status_note=note, updated_at=now)
            )
            await add_event(conn, sid, actor, "status", old.status, status, note, now)
            return old.status, await get_row(conn, community_id, sid)

    async def set_hidden(
        self, community_id: int, sid: int, hidden: bool, actor: int, now: datetime
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid, suggestions.c.community_id == community_id)
                .values(hidden=hidden, updated_at=now)
            )
            await add_event(
                conn, sid, actor, "hidden" if hidden else "shown", None, None, None, now
            )

    # -- corrections: edits, soft deletes, official responses ------------------------------

    async def edit(
        self,
        community_id: int,
        sid: int,
        title: str,
        details: str,
        actor: int,
        now: datetime,
    ) -> SuggestionRow:
        """Change the title and details; the event keeps what they were."""
        async with self.engine.begin() as conn:
            old = await get_row(conn, community_id, sid)
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid)
                .values(title=title, details=details, edited_at=now, updated_at=now)
            )
            was = f"{old.title}\n{old.details}" if old.details else old.title
            await add_event(conn, sid, actor, "edited", None, None, was, now)
            return await get_row(conn, community_id, sid)

    async def delete(self, community_id: int, sid: int, actor: int, now: datetime) -> None:
        """Soft delete: hidden with it; the event remembers whether it was hidden before, so a
        restore puts it back as it was."""
        async with self.engine.begin() as conn:
            old = await get_row(conn, community_id, sid)
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid, suggestions.c.deleted_at.is_(None))
                .values(deleted_at=now, deleted_by=actor, hidden=True, updated_at=now)
            )
            was = "hidden" if old.hidden else "shown"
            await add_event(conn, sid, actor, "deleted", was, None, None, now)

    async def restore(self, community_id: int, sid: int, actor: int, now: datetime) -> None:
        async with self.engine.begin() as conn:
            was = (
                await conn.execute(
                    select(suggestion_events.c.old)
                    .where(
                        suggestion_events.c.suggestion_id == sid,
                        suggestion_events.c.kind == "deleted",
                    )
                    .order_by(suggestion_events.c.id.desc())
                    .limit(1)
                )
            ).scalar()
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid, suggestions.c.community_id == community_id)
                .values(deleted_at=None, deleted_by=None, hidden=was == "hidden", updated_at=now)
            )
            await add_event(conn, sid, actor, "restored", None, None, None, now)

    async def set_response(
        self, community_id: int, sid: int, text: str | None, actor: int, now: datetime
    ) -> SuggestionRow:
        """Set (or with None clear) the team's official response."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(suggestions)
                .where(suggestions.c.id == sid, suggestions.c.community_id == community_id)
                .values(
                    response=text,
                    response_by=actor if text else None,
                    response_at=now if text else None,
                    updated_at=now,
                )
            )
            await add_event(conn, sid, actor, "response", None, None, text, now)
            return await get_row(conn, community_id, sid)

    async def set_shipped_note(
        self, community_id: int, ids: Sequence[int], old: str, new: str, now: datetime
    ) -> None:
        """A renamed release: the suggestions it shipped name it anew in their status note."""
        if not ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(suggestions)
                .where(
                    suggestions.c.community_id == community_id,
                    suggestions.c.id.in_(list(ids)),
                    suggestions.c.status == "shipped",
                    suggestions.c.status_note == old,
                )
                .values(status_note=new, updated_at=now)
            )

    async def status_before(self, sid: int) -> str | None:
        """The status a suggestion had before its last status change."""
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(suggestion_events.c.old)
                    .where(
                        suggestion_events.c.suggestion_id == sid,
                        suggestion_events.c.kind == "status",
                    )
                    .order_by(suggestion_events.c.id.desc())
                    .limit(1)
                )
            ).scalar()

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

    async def purge_drafts(self, before: datetime) -> int:
        """Delete drafts made before `before`, posted or not (retention): a later "post it"
        on one is told the draft is gone. A post held for review keeps its own copy."""
        return await purge_rows(self.engine, drafts, drafts.c.created_at < before)

    async def post_draft(
        self, draft: DraftRow, now: datetime, *, anonymous: bool = False
    ) -> SuggestionRow | None:
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
                    anonymous,
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


async def add_event(
    conn: AsyncConnection,
    sid: int,
    actor: int,
    kind: str,
    old: str | None,
    new: str | None,
    note: str | None,
    now: datetime,
) -> None:
    """Record what happened to a suggestion (`suggestion_events`), and tell the other
    processes when the transaction commits (their similar-suggestion index re-reads it)."""
    await publish(conn, TOPIC, {"id": sid})
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


async def add_to_count(conn: AsyncConnection, sid: int, delta: int) -> None:
    """Move a suggestion's vote count by `delta`, in the transaction that added or removed the
    votes (`suggestions.votes` is kept equal to its rows in `votes`)."""
    if delta:
        await conn.execute(
            update(suggestions)
            .where(suggestions.c.id == sid)
            .values(votes=suggestions.c.votes + delta)
        )
