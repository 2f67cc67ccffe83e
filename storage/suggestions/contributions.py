"""What the suggestion loop's participation record is computed from: the votes for other
people's suggestions, and the accepted suggestions with their status changes. Which statuses
count, and how a history becomes points, is the feature's rule (`cogs.suggestions.contributions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.suggestions.schema import suggestion_events, suggestions, votes


@dataclass(frozen=True)
class CountedVote:
    account_id: int
    suggestion_id: int
    at: datetime


@dataclass(frozen=True)
class AcceptedSuggestion:
    id: int
    author_id: int
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class StatusMove:
    """A status change into one of the accepted statuses."""

    suggestion_id: int
    by_other: bool  # made by someone other than the author
    status: str
    at: datetime


@dataclass
class ContributionFacts:
    votes: list[CountedVote] = field(default_factory=list)
    accepted: list[AcceptedSuggestion] = field(default_factory=list)
    moves: list[StatusMove] = field(default_factory=list)


class ContributionRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def facts(
        self,
        community_id: int,
        since: datetime | None,
        *,
        excluded_status: str,
        accepted: Sequence[str],
    ) -> ContributionFacts:
        """In one read: the votes for visible suggestions not in `excluded_status`, each by
        someone other than the suggestion's author; the visible suggestions in `accepted`; and
        their status changes into `accepted`. With `since`, only what may have happened since
        then (votes cast since, suggestions updated since)."""
        async with self.engine.connect() as conn:
            facts = ContributionFacts(
                votes=await _votes(conn, community_id, since, excluded_status)
            )
            await _accepted(conn, community_id, since, list(accepted), facts)
        return facts


async def _votes(
    conn: AsyncConnection, community_id: int, since: datetime | None, excluded_status: str
) -> list[CountedVote]:
    counts = (
        suggestions.c.community_id == community_id,
        suggestions.c.hidden.is_(False),
        suggestions.c.status != excluded_status,
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
        CountedVote(int(r.account_id), int(r.suggestion_id), r.created_at)
        for r in await conn.execute(q)
    ]


async def _accepted(
    conn: AsyncConnection,
    community_id: int,
    since: datetime | None,
    accepted: list[str],
    facts: ContributionFacts,
) -> None:
    visible = [
        suggestions.c.community_id == community_id,
        suggestions.c.hidden.is_(False),
        suggestions.c.status.in_(accepted),
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
        return
    facts.accepted = [
        AcceptedSuggestion(int(r.id), int(r.author_id), str(r.status), r.updated_at) for r in rows
    ]
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
            suggestion_events.c.new.in_(accepted),
        )
    )
    facts.moves = [
        StatusMove(
            int(e.suggestion_id), int(e.actor_id) != int(e.author_id), str(e.new), e.created_at
        )
        for e in events
    ]
