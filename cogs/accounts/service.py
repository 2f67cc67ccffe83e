"""Linking a member's accounts across platforms, and joining platform spaces into one community."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.accounts import AccountMerger, ContentCheck
from bot.core.clock import Clock
from bot.core.errors import UserError
from bot.core.settings import SettingsService
from storage.core.identity import IdentityRepo
from storage.core.one_time_codes import OneTimeCodesRepo

LINK_TTL = timedelta(minutes=15)
JOIN_TTL = timedelta(hours=24)


class CodeKind(StrEnum):
    """What a one-time code is for (the stored `one_time_codes.kind`)."""

    LINK = "link"  # bind a second platform account into the account that asked for the code
    JOIN = "join"  # attach a platform space to the community that asked for the code


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
        content_checks: Sequence[ContentCheck],
    ) -> None:
        self.clock = clock
        self.identity = identity
        self.settings = settings
        self.mergers = mergers  # every cog's, read when accounts are linked
        self.content_checks = content_checks  # every cog's, read when a space joins
        self.one_time_codes = OneTimeCodesRepo(engine)

    async def link_code(self, account_id: int) -> str:
        return await self.one_time_codes.issue(
            CodeKind.LINK, self.clock.now(), LINK_TTL, account_id=account_id
        )

    async def link(self, code: str, account_id: int) -> LinkResult:
        """Bind the account that typed the code into the account that asked for it."""
        row = await self.one_time_codes.redeem(CodeKind.LINK, code, self.clock.now())
        if row is None or row.account_id is None:
            raise UserError("link.bad_code")
        target = row.account_id
        if target == account_id:
            raise UserError("link.same")
        # One account holds at most one identity per platform: a code typed on a platform the
        # asking account is already on came to someone else (or to the same person's second
        # account there), and linking would make two people one.
        mine = {i.platform for i in await self.identity.identities_of(account_id)}
        theirs = {i.platform for i in await self.identity.identities_of(target)}
        if shared := sorted(mine & theirs):
            raise UserError("link.same_platform", platform=", ".join(shared))
        await self.identity.merge_accounts(account_id, target, self.mergers)
        idents = await self.identity.identities_of(target)
        return LinkResult(target, sorted({i.platform for i in idents}))

    async def join_code(self, community_id: int) -> str:
        return await self.one_time_codes.issue(
            CodeKind.JOIN, self.clock.now(), JOIN_TTL, community_id=community_id
        )

    async def join(self, code: str, platform: str, space_id: str, current: int) -> int:
        """Attach this platform space to the community the code belongs to."""
        for holds_content in self.content_checks:
            if await holds_content(current):
                raise UserError("join.has_content")  # checked first: the code stays usable
        row = await self.one_time_codes.redeem(CodeKind.JOIN, code, self.clock.now())
        if row is None or row.community_id is None:
            raise UserError("join.bad_code")
        if row.community_id == current:
            raise UserError("join.same")
        await self.identity.move_space(platform, space_id, row.community_id)
        self.settings.forget(current)
        return row.community_id
