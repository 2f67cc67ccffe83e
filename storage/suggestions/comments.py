"""Comments on suggestions and the members who follow them.

A comment is kept once per platform message (`origin`), so a redelivered message adds nothing.
Hidden and deleted comments stay in the table and are never read back as visible.
Following: the author of a suggestion follows its comments until they unfollow (their row is
written with the first comment); a member who comments follows from then on; anyone else who
may follow (a voter) opts in. `told_through` moves only forward, by compare-and-set, so two
processes never tell a follower twice about the same comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.suggestions.discussion_schema import comment_follows, comments
from storage.suggestions.schema import suggestions, votes
from storage.util import insert_ignore, new_id


@dataclass(frozen=True)
class CommentRow:
    id: int
    suggestion_id: int
    author_id: int
    body: str
    created_at: datetime
    platform: str
    hidden: bool
    deleted: bool

    @property
    def visible(self) -> bool:
        return not (self.hidden or self.deleted)


@dataclass(frozen=True)
class Due:
    """A follower with comments they were not told about yet."""

    suggestion_id: int
    account_id: int
    told_through: int


def _row(r: Any) -> CommentRow:
    return CommentRow(
        id=int(r.id),
        suggestion_id=int(r.suggestion_id),
        author_id=int(r.author_id),
        body=str(r.body),
        created_at=r.created_at,
        platform=str(r.platform),
        hidden=bool(r.hidden),
        deleted=r.deleted_at is not None,
    )


_VISIBLE = and_(comments.c.hidden.is_(False), comments.c.deleted_at.is_(None))


class CommentRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(
        self,
        suggestion_id: int,
        suggestion_author: int,
        author_id: int,
        body: str,
        platform: str,
        origin: str | None,
        now: datetime,
    ) -> CommentRow | None:
        """Keep a comment; None if a comment from the same platform message exists already."""
        async with self.engine.begin() as conn:
            values = {
                "suggestion_id": suggestion_id,
                "author_id": author_id,
                "body": body,
                "platform": platform,
                "origin": origin,
                "created_at": now,
            }
            if origin is not None:
                if not await insert_ignore(conn, comments, values):
                    return None
                cid = (
                    await conn.execute(select(comments.c.id).where(comments.c.origin == origin))
                ).scalar_one()
            else:
                cid = new_id(await conn.execute(insert(comments).values(**values)))
            # The author follows from the first comment on (told of everything), the commenter
            # from their own comment on; an explicit "unfollow" row stays as it is.
            follows = {
                suggestion_author: {"told_through": 0},
                author_id: {"told_through": cid},
            }
            for account, extra in follows.items():
                await insert_ignore(
                    conn,
                    comment_follows,
                    {
                        "suggestion_id": suggestion_id,
                        "account_id": account,
                        "following": True,
                        "created_at": now,
                        **extra,
                    },
                )
            return await self._get(conn, int(cid))

    async def get(self, comment_id: int) -> CommentRow | None:
        async with self.engine.connect() as conn:
            return await self._get(conn, comment_id)

    async def _get(self, conn: AsyncConnection, comment_id: int) -> CommentRow | None:
        r = (await conn.execute(select(comments).where(comments.c.id == comment_id))).first()
        return _row(r) if r is not None else None

    async def latest(self, suggestion_id: int, limit: int) -> tuple[list[CommentRow], int]:
        """The newest visible comments (oldest first) and how many visible there are."""
        async with self.engine.connect() as conn:
            count = (
                await conn.execute(
                    select(func.count())
                    .select_from(comments)
                    .where(comments.c.suggestion_id == suggestion_id, _VISIBLE)
                )
            ).scalar_one()
            rows = (
                await conn.execute(
                    select(comments)
                    .where(comments.c.suggestion_id == suggestion_id, _VISIBLE)
                    .order_by(comments.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [_row(r) for r in reversed(rows)], int(count)

    async def remove(self, comment_id: int, by: int, *, hide: bool, now: datetime) -> bool:
        """Delete (the author) or hide (an admin) a visible comment; False if it was not."""
        values: dict[str, Any] = {"removed_by": by}
        if hide:
            values["hidden"] = True
        else:
            values["deleted_at"] = now
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(comments).where(comments.c.id == comment_id, _VISIBLE).values(**values)
            )
            return bool(res.rowcount)

    # -- following ------------------------------------------------------------------------------

    async def following(self, suggestion_id: int, account_id: int) -> bool | None:
        """Whether the member follows; None when they never said and never commented."""
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(
                    select(comment_follows.c.following).where(
                        comment_follows.c.suggestion_id == suggestion_id,
                        comment_follows.c.account_id == account_id,
                    )
                )
            ).scalar()
        return None if value is None else bool(value)

    async def set_following(
        self, suggestion_id: int, account_id: int, following: bool, now: datetime
    ) -> bool:
        """Follow or stop following; True if that changed anything. A member who starts
        following is told of the comments written from then on."""
        async with self.engine.begin() as conn:
            newest = (
                await conn.execute(
                    select(func.coalesce(func.max(comments.c.id), 0)).where(
                        comments.c.suggestion_id == suggestion_id
                    )
                )
            ).scalar_one()
            where = (
                comment_follows.c.suggestion_id == suggestion_id,
                comment_follows.c.account_id == account_id,
            )
            current = (
                await conn.execute(select(comment_follows.c.following).where(*where))
            ).scalar()
            if current is not None:
                if bool(current) == following:
                    return False
                values: dict[str, Any] = {"following": following}
                if following:
                    values["told_through"] = newest
                await conn.execute(update(comment_follows).where(*where).values(**values))
                return True
            await insert_ignore(
                conn,
                comment_follows,
                {
                    "suggestion_id": suggestion_id,
                    "account_id": account_id,
                    "following": following,
                    "told_through": newest,
                    "created_at": now,
                },
            )
            return True

    async def due(
        self,
        told_before: datetime,
        suggestion_id: int | None = None,
        *,
        commented_since: datetime | None = None,
    ) -> list[Due]:
        """Followers with visible comments of others they were not told about, last told
        before `told_before` (or never), on suggestions that are not hidden; of one suggestion,
        or of those commented on since `commented_since` (the tick reads only those)."""
        f = comment_follows
        unseen = exists().where(
            comments.c.suggestion_id == f.c.suggestion_id,
            comments.c.id > f.c.told_through,
            comments.c.author_id != f.c.account_id,
            _VISIBLE,
        )
        query = (
            select(f.c.suggestion_id, f.c.account_id, f.c.told_through)
            .join(suggestions, suggestions.c.id == f.c.suggestion_id)
            .where(
                f.c.following.is_(True),
                (f.c.told_at.is_(None)) | (f.c.told_at <= told_before),
                suggestions.c.hidden.is_(False),
                unseen,
            )
            .order_by(f.c.suggestion_id, f.c.account_id)
        )
        if suggestion_id is not None:
            query = query.where(f.c.suggestion_id == suggestion_id)
        if commented_since is not None:
            recent = select(comments.c.suggestion_id).where(
                comments.c.created_at >= commented_since
            )
            query = query.where(f.c.suggestion_id.in_(recent.scalar_subquery()))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Due(int(r.suggestion_id), int(r.account_id), int(r.told_through)) for r in rows]

    async def unseen(
        self, suggestion_id: int, account_id: int, after: int, limit: int
    ) -> tuple[list[CommentRow], int]:
        """Visible comments of others after comment `after`: the newest `limit` (oldest first)
        and how many there are."""
        where = (
            comments.c.suggestion_id == suggestion_id,
            comments.c.id > after,
            comments.c.author_id != account_id,
            _VISIBLE,
        )
        async with self.engine.connect() as conn:
            count = (
                await conn.execute(select(func.count()).select_from(comments).where(*where))
            ).scalar_one()
            rows = (
                await conn.execute(
                    select(comments).where(*where).order_by(comments.c.id.desc()).limit(limit)
                )
            ).all()
        return [_row(r) for r in reversed(rows)], int(count)

    async def voted(self, suggestion_id: int, account_id: int) -> bool:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(votes.c.account_id).where(
                        votes.c.suggestion_id == suggestion_id, votes.c.account_id == account_id
                    )
                )
            ).first()
        return found is not None

    async def community_and_title(self, suggestion_id: int) -> tuple[int, str] | None:
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(suggestions.c.community_id, suggestions.c.title).where(
                        suggestions.c.id == suggestion_id
                    )
                )
            ).first()
        return (int(r.community_id), str(r.title)) if r is not None else None

    async def mark_told(
        self, suggestion_id: int, account_id: int, was: int, through: int, now: datetime
    ) -> bool:
        """Move a follower's `told_through` from `was` to `through`; False if another process
        moved it first."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(comment_follows)
                .where(
                    comment_follows.c.suggestion_id == suggestion_id,
                    comment_follows.c.account_id == account_id,
                    comment_follows.c.told_through == was,
                )
                .values(told_through=through, told_at=now)
            )
            return bool(res.rowcount)


async def merge_comment_accounts(conn: AsyncConnection, from_id: int, to_id: int) -> None:
    """A linked person's comments and follows become the other account's (one follow row per
    suggestion: the one already on `to_id` wins)."""
    await conn.execute(
        update(comments).where(comments.c.author_id == from_id).values(author_id=to_id)
    )
    await conn.execute(
        update(comments).where(comments.c.removed_by == from_id).values(removed_by=to_id)
    )
    theirs = select(comment_follows.c.suggestion_id).where(comment_follows.c.account_id == to_id)
    await conn.execute(
        delete(comment_follows).where(
            comment_follows.c.account_id == from_id,
            comment_follows.c.suggestion_id.in_(theirs.scalar_subquery()),
        )
    )
    await conn.execute(
        update(comment_follows)
        .where(comment_follows.c.account_id == from_id)
        .values(account_id=to_id)
    )
