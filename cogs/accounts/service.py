"""Linking a member's accounts across platforms, and joining platform spaces into one community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.errors import UserError
from storage.core.identity import merge_core_accounts, move_space
from storage.core.one_time_codes import CodesRepo
from storage.suggestions.posts import count_in_community

if TYPE_CHECKING:
    from bot.core.app import App

LINK_TTL = timedelta(minutes=15)
JOIN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class LinkResult:
    account_id: int
    platforms: list[str]


class AccountsService:
    def __init__(self, app: App) -> None:
        self.app = app
        self.codes = CodesRepo(app.engine)

    async def link_code(self, account_id: int) -> str:
        return await self.codes.issue("link", self.app.clock.now(), LINK_TTL, account_id=account_id)

    async def link(self, code: str, account_id: int) -> LinkResult:
        """Bind the account that typed the code into the account that asked for it."""
        row = await self.codes.redeem("link", code, self.app.clock.now())
        if row is None or row.account_id is None:
            raise UserError("link.bad_code")
        target = row.account_id
        if target == account_id:
            raise UserError("link.same")
        async with self.app.engine.begin() as conn:
            await merge_core_accounts(conn, account_id, target)
            for merger in self.app.account_mergers:
                await merger(conn, account_id, target)
        idents = await self.app.identity.identities_of(target)
        return LinkResult(target, sorted({i.platform for i in idents}))

    async def join_code(self, community_id: int) -> str:
        return await self.codes.issue(
            "join", self.app.clock.now(), JOIN_TTL, community_id=community_id
        )

    async def join(self, code: str, platform: str, space_id: str, current: int) -> int:
        """Attach this platform space to the community the code belongs to."""
        async with self.app.engine.connect() as conn:
            if await count_in_community(conn, current):
                raise UserError("join.has_content")  # checked first: the code stays usable
        row = await self.codes.redeem("join", code, self.app.clock.now())
        if row is None or row.community_id is None:
            raise UserError("join.bad_code")
        if row.community_id == current:
            raise UserError("join.same")
        async with self.app.engine.begin() as conn:
            await move_space(conn, platform, space_id, row.community_id)
        self.app.community_settings.forget(current)
        return row.community_id
