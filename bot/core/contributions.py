"""Contracts between cogs that feed the participation record and cogs that use it.

Cogs do not import each other: each registers what it provides on the App, and the others
look it up (and work without it when that cog is not loaded).

- Contribution sources: every cog whose actions earn points registers a function that lists
  the contributions stored in its own tables (`app.contribution_sources`). Points are derived
  from these, so they can always be recomputed exactly.
- `ScoreProvider`: the participation cog's answer to "how many points / which tier", used for
  drop eligibility.
- Content checks: every cog whose content belongs to a community registers a function that
  tells whether a community holds any (`app.content_checks`).
- `FCodeIssuer`: the drops cog's way to hand out priority codes, used to reward top members.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Contribution:
    account_id: int
    kind: str  # e.g. "vote", "suggestion_planned", "suggestion_shipped", "report", "reservation"
    at: datetime
    ref: str  # unique per contribution within its kind, e.g. "12" for suggestion 12


# (community id, since or None for all time) -> contributions in that community
ContributionSource = Callable[[int, datetime | None], Awaitable[list[Contribution]]]


class ScoreProvider(Protocol):
    async def points(self, community_id: int, account_id: int) -> int: ...

    async def tier(self, community_id: int, account_id: int) -> str | None: ...


class FCodeIssuer(Protocol):
    async def issue_fcodes(
        self, community_id: int, drop_id: int, account_ids: list[int], actor: int
    ) -> dict[int, str]:
        """Give each account one single-use priority code for the drop; returns account → code."""
        ...


# Moving one account's data onto another when a member links a second platform account:
# (connection, from account, to account). Each cog re-points its own rows, de-duplicating
# where the two accounts both acted (a vote for the same suggestion counts once).
AccountMerger = Callable[..., Awaitable[None]]

# (community id) -> whether the community holds this cog's content (e.g. suggestions). A platform
# space whose community holds content may not join another community (`/join`).
ContentCheck = Callable[[int], Awaitable[bool]]
