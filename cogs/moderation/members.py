"""The member a MEMBER parameter names (a display name on text platforms)."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.errors import UserError


async def named_member(ctx: Context, name: str) -> tuple[int, str]:
    account = await ctx.identity.find_by_name(ctx.community.id, name)
    if account is None:
        raise UserError("moderation.no_member", name=name.strip()[:64])
    names = await ctx.identity.display_names([account])
    return account, names.get(account, name.strip())
