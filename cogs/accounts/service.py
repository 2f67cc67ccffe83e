"""Linking a member's accounts across platforms, and joining platform spaces into one community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.core.errors import UserError
from storage.core.one_time_codes import OneTimeCodesRepo

if TYPE_CHECKING:
    from bot.core.app import App

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
    def __init__(self, app: App) -> None:
        self.app = app
        self.one_time_codes = OneTimeCodesRepo(app.engine)

    async def link_code(self, account_id: int) -> str:
        return await self.one_time_codes.issue(
            CodeKind.LINK, self.app.clock.now(), LINK_TTL, account_id=account_id
        )

    async def link(self, code: str, account_id: int) -> LinkResult:
        """Bind the account that typed the code into the account that asked for it."""
        row = await self.one_time_codes.redeem(CodeKind.LINK, code, self.app.clock.now())
        if row is None or row.account_id is None:
            raise UserError("link.bad_code")
        target = row.account_id
        if target == account_id:
            raise UserError("link.same")
        await self.app.identity.merge_accounts(account_id, target, self.app.account_mergers)
        idents = await self.app.identity.identities_of(target)
        return LinkResult(target, sorted({i.platform for i in idents}))

    async def join_code(self, community_id: int) -> str:
        return await self.one_time_codes.issue(
            CodeKind.JOIN, self.app.clock.now(), JOIN_TTL, community_id=community_id
        )

    async def join(self, code: str, platform: str, space_id: str, current: int) -> int:
        """Attach this platform space to the community the code belongs to."""
        for holds_content in self.app.content_checks:
            if await holds_content(current):
                raise UserError("join.has_content")  # checked first: the code stays usable
        row = await self.one_time_codes.redeem(CodeKind.JOIN, code, self.app.clock.now())
        if row is None or row.community_id is None:
            raise UserError("join.bad_code")
        if row.community_id == current:
            raise UserError("join.same")
        await self.app.identity.move_space(platform, space_id, row.community_id)
        self.app.community_settings.forget(current)
        return row.community_id
