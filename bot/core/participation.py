"""Contracts between the cogs that feed the participation record and the cog that keeps it.

Cogs do not import each other: each registers what it provides at setup, and the others look
it up (and work without it when that cog is not loaded).

- Contribution sources: every cog whose actions earn points registers a function that lists
  the contributions stored in its own tables (`FeatureSetup.add_contribution_source`). Points are
  derived from these, so they can always be recomputed exactly.
- `ScoreProvider`: the participation cog's answer to "how many points / which tier", used for
  drop eligibility (registered as a service under this type).
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

    async def tier_names(self, community_id: int) -> list[str]: ...
