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

from bot.core.participation import Contribution, ContributionSource
from cogs.suggestions.status import ACCEPTED, SuggestionStatus
from storage.suggestions.contributions import ContributionFacts, ContributionRepo


def source(repo: ContributionRepo) -> ContributionSource:
    async def contributions(community_id: int, since: datetime | None) -> list[Contribution]:
        facts = await repo.facts(
            community_id, since, excluded_status=SuggestionStatus.DUPLICATE, accepted=ACCEPTED
        )
        out = [Contribution(v.account_id, "vote", v.at, str(v.suggestion_id)) for v in facts.votes]
        out.extend(_accepted(facts, since))
        return out

    return contributions


def _accepted(facts: ContributionFacts, since: datetime | None) -> list[Contribution]:
    # Status changes into an accepted status: (by someone else?, new status, when).
    moves: dict[int, list[tuple[bool, str, datetime]]] = defaultdict(list)
    for m in facts.moves:
        moves[m.suggestion_id].append((m.by_other, m.status, m.at))
    out: list[Contribution] = []
    for r in facts.accepted:
        history = moves.get(r.id, [])
        planned = _first(history, ACCEPTED, r.updated_at)
        if planned is not None:
            out.append(Contribution(r.author_id, "suggestion_planned", planned, str(r.id)))
        if r.status == SuggestionStatus.SHIPPED:
            shipped = _first(history, (SuggestionStatus.SHIPPED,), r.updated_at)
            if shipped is not None:
                out.append(Contribution(r.author_id, "suggestion_shipped", shipped, str(r.id)))
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
