"""Linking a member's accounts across platforms, and joining platform spaces into one community."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.accounts import AccountMerger
from bot.core.clock import Clock
from bot.core.errors import UserError
from bot.core.settings import SettingsService
from storage.core.identity import IdentityRepo, merge_core_accounts, move_space
from storage.core.one_time_codes import CodesRepo
from storage.suggestions.posts import count_in_community

LINK_TTL = timedelta(minutes=15)
JOIN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class LinkResult:
    account_id: int
    platforms: list[str]


class AccountsService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        identity: IdentityRepo,
        settings: SettingsService,
        mergers: Sequence[AccountMerger],
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.identity = identity
        self.settings = settings
        self.mergers = mergers  # every cog's, read when accounts are linked
        self.codes = CodesRepo(engine)

    async def link_code(self, account_id: int) -> str:
        return await self.codes.issue("link", self.clock.now(), LINK_TTL, account_id=account_id)

    async def link(self, code: str, account_id: int) -> LinkResult:
        """Bind the account that typed the code into the account that asked for it."""
        row = await self.codes.redeem("link", code, self.clock.now())
        if row is None or row.account_id is None:
            raise UserError("link.bad_code")
        target = row.account_id
        if target == account_id:
            raise UserError("link.same")
        async with self.engine.begin() as conn:
            await merge_core_accounts(conn, account_id, target)
            for merger in self.mergers:
                await merger(conn, account_id, target)
        idents = await self.identity.identities_of(target)
        return LinkResult(target, sorted({i.platform for i in idents}))

    async def join_code(self, community_id: int) -> str:
        return await self.codes.issue("join", self.clock.now(), JOIN_TTL, community_id=community_id)

    async def join(self, code: str, platform: str, space_id: str, current: int) -> int:
        """Attach this platform space to the community the code belongs to."""
        async with self.engine.connect() as conn:
            if await count_in_community(conn, current):
                raise UserError("join.has_content")  # checked first: the code stays usable
        row = await self.codes.redeem("join", code, self.clock.now())
        if row is None or row.community_id is None:
            raise UserError("join.bad_code")
        if row.community_id == current:
            raise UserError("join.same")
        async with self.engine.begin() as conn:
            await move_space(conn, platform, space_id, row.community_id)
        self.settings.forget(current)
        return row.community_id
