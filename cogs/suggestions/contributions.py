"""What the suggestion loop contributes to the participation record (see bot.core.participation).

- "vote": a vote for someone else's suggestion (ref: the suggestion). A vote a merge carried over
  to the original counts for the original; votes for one's own suggestion earn nothing.
- "suggestion_planned": the author's suggestion was accepted — it is now planned, in progress or
  shipped, at the moment someone other than the author first moved it there.
- "suggestion_shipped": the author's suggestion is shipped, from the moment someone other than the
  author marked it so.

Hidden suggestions and suggestions closed as duplicates contribute nothing, and neither does a
status change an author made to their own suggestion: nobody awards themselves points.
Contributions follow the current state, so a vote taken back or a suggestion hidden later stops
counting at the participation record's next reconciliation.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.participation import Contribution, ContributionSource
from storage.suggestions.schema import suggestion_events, suggestions, votes

ACCEPTED = ("planned", "in_progress", "shipped")


def source(engine: AsyncEngine) -> ContributionSource:
    async def contributions(community_id: int, since: datetime | None) -> list[Contribution]:
        async with engine.connect() as conn:
            out = await _votes(conn, community_id, since)
            out.extend(await _accepted(conn, community_id, since))
        return out

    return contributions


async def _votes(
    conn: AsyncConnection, community_id: int, since: datetime | None
) -> list[Contribution]:
    counts = (
        suggestions.c.community_id == community_id,
        suggestions.c.hidden.is_(False),
        suggestions.c.status != "duplicate",
        votes.c.account_id != suggestions.c.author_id,
    )
    columns = (votes.c.account_id, votes.c.suggestion_id, votes.c.created_at)
    if since is None:
        q = select(*columns).join(suggestions, suggestions.c.id == votes.c.suggestion_id)
        q = q.where(*counts)
    else:
        # Recent votes first (index on votes.created_at), then their suggestions: a sync reads
        # the last minutes, not the community's whole history.
        counted = select(suggestions.c.id).where(suggestions.c.id == votes.c.suggestion_id, *counts)
        q = select(*columns).where(votes.c.created_at >= since, counted.exists())
    return [
        Contribution(int(r.account_id), "vote", r.created_at, str(r.suggestion_id))
        for r in await conn.execute(q)
    ]


async def _accepted(
    conn: AsyncConnection, community_id: int, since: datetime | None
) -> list[Contribution]:
    visible = [
        suggestions.c.community_id == community_id,
        suggestions.c.hidden.is_(False),
        suggestions.c.status.in_(ACCEPTED),
    ]
    if since is not None:
        # Acceptance is dated by a status change, which also moves `updated_at`: suggestions
        # untouched since then cannot have a contribution that recent.
        visible.append(suggestions.c.updated_at >= since)
    rows = (
        await conn.execute(
            select(
                suggestions.c.id,
                suggestions.c.author_id,
                suggestions.c.status,
                suggestions.c.updated_at,
            ).where(*visible)
        )
    ).all()
    if not rows:
        return []
    # Status changes into an accepted status: (by someone else?, new status, when).
    moves: dict[int, list[tuple[bool, str, datetime]]] = defaultdict(list)
    events = await conn.execute(
        select(
            suggestion_events.c.suggestion_id,
            suggestion_events.c.actor_id,
            suggestion_events.c.new,
            suggestion_events.c.created_at,
            suggestions.c.author_id,
        )
        .join(suggestions, suggestions.c.id == suggestion_events.c.suggestion_id)
        .where(
            *visible,
            suggestion_events.c.kind == "status",
            suggestion_events.c.new.in_(ACCEPTED),
        )
    )
    for e in events:
        moves[int(e.suggestion_id)].append(
            (int(e.actor_id) != int(e.author_id), str(e.new), e.created_at)
        )
    out: list[Contribution] = []
    for r in rows:
        sid, author = int(r.id), int(r.author_id)
        history = moves.get(sid, [])
        planned = _first(history, ACCEPTED, r.updated_at)
        if planned is not None:
            out.append(Contribution(author, "suggestion_planned", planned, str(sid)))
        if r.status == "shipped":
            shipped = _first(history, ("shipped",), r.updated_at)
            if shipped is not None:
                out.append(Contribution(author, "suggestion_shipped", shipped, str(sid)))
    if since is not None:
        out = [c for c in out if c.at >= since]
    return out


def _first(
    history: list[tuple[bool, str, datetime]], statuses: tuple[str, ...], fallback: datetime
) -> datetime | None:
    """When someone other than the author first moved the suggestion into one of `statuses`.
    With no recorded move at all (a status set outside the suggestion service), the time of the
    last update; when only the author moved it, never."""
    into = [(other, at) for other, status, at in history if status in statuses]
    if not into:
        return fallback
    by_others = [at for other, at in into if other]
    return min(by_others) if by_others else None
