"""The contract for handing out F-codes (priority codes for a drop) from outside the drops cog.

The drops cog registers its service under `FCodeIssuer`; the participation cog looks it up to
reward a period's top members, and works without it when drops are not loaded.
"""

from __future__ import annotations

from typing import Protocol


class FCodeIssuer(Protocol):
    async def issue_fcodes(
        self, community_id: int, drop_id: int, account_ids: list[int], actor: int
    ) -> dict[int, str]:
        """Give each account one single-use priority code for the drop; returns account → code."""
        ...
