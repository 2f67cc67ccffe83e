"""One person, one vote: link accounts across platforms; one community across platforms."""

from __future__ import annotations

from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.accounts.service import LINK_TTL, AccountsService


async def link(ctx: Context, code: str | None = None) -> Reply:
    service = ctx.service(AccountsService)
    if code is None:
        new = await service.link_code(ctx.member.account_id)
        minutes = int(LINK_TTL.total_seconds() // 60)
        return Reply(text=ctx.t("link.code", code=new, minutes=minutes), ephemeral=True)
    result = await service.link(code, ctx.member.account_id)
    return Reply(text=ctx.t("link.done", platforms=", ".join(result.platforms)), ephemeral=True)


async def community_code(ctx: Context) -> Reply:
    code = await ctx.service(AccountsService).join_code(ctx.community.id)
    return Reply(text=ctx.t("join.code", code=code, community=ctx.community.name), ephemeral=True)


async def join(ctx: Context, code: str) -> Reply:
    cid = await ctx.service(AccountsService).join(
        code, ctx.platform, ctx.space_id, ctx.community.id
    )
    spaces = await ctx.identity.spaces_of(cid)
    where = ", ".join(f"{s.platform}: {s.name or s.space_id}" for s in spaces)
    return Reply(text=ctx.t("join.done", spaces=where))


def setup(feature: FeatureSetup) -> None:
    feature.services.add(
        AccountsService(
            feature.engine,
            feature.clock,
            feature.identity,
            feature.settings,
            feature.account_mergers,
            feature.content_checks,
        )
    )
    code = Param("code", ParamType.TEXT, "param.code", min=4, max=32)
    feature.commands.add(
        CommandSpec(
            "link",
            "help.link",
            link,
            (Param("code", ParamType.TEXT, "param.code", required=False, min=4, max=32),),
            rate=(5, 600.0),
        )
    )
    feature.commands.add(
        CommandSpec("community code", "help.community_code", community_code, role=Role.OWNER)
    )
    feature.commands.add(
        CommandSpec("join", "help.join", join, (code,), role=Role.OWNER, rate=(5, 600.0))
    )
