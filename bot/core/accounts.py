"""Contracts of the accounts cog with the others: moving one account's data onto another when a
member links accounts, and telling whether a community already holds content (`/join`).

When a member links a second platform account (`/link`), the accounts cog merges the two: the
core tables first, then every `AccountMerger` that a cog registered at setup
(`FeatureSetup.add_account_merger`), all in one transaction. Each cog re-points its own rows,
de-duplicating where both accounts acted (a vote for the same suggestion counts once).

The connection is SQLAlchemy's `AsyncConnection`, the storage layer's unit of work whatever the
database (SQLite or PostgreSQL): the core already owns the `AsyncEngine` it comes from, and a
merger hands it on to its own storage package's functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection


class AccountMerger(Protocol):
    async def __call__(self, conn: AsyncConnection, from_account: int, to_account: int, /) -> None:
        """Move `from_account`'s rows onto `to_account` inside the caller's transaction."""
        ...


# (community id) -> whether the community holds this cog's content (e.g. suggestions). A platform
# space whose community holds content may not join another community (`/join`): its content
# would be orphaned. Registered with `FeatureSetup.add_content_check`.
ContentCheck = Callable[[int], Awaitable[bool]]
