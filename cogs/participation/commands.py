"""Fan commands of the participation record: /profile, /leaderboard, /tiers."""

from __future__ import annotations

from bot.core.commands import CommandSpec, Param, ParamType
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.participation import views
from cogs.participation.periods import PERIODS, PeriodName
from cogs.participation.service import ParticipationService
from cogs.suggestions.service import SuggestionRow, SuggestionService


def svc(ctx: Context) -> ParticipationService:
    return ctx.service(ParticipationService)


async def resolve_member(ctx: Context, name: str | None) -> tuple[int, str]:
    """The member a MEMBER parameter names (a display name on text platforms); the caller when
    it is left out."""
    if name is None or not name.strip():
        return ctx.member.account_id, ctx.member.display_name
    account = await ctx.identity.find_by_name(ctx.community.id, name)
    if account is None:
        raise UserError("profile.no_member", name=name.strip())
    names = await ctx.identity.display_names([account])
    return account, names.get(account, name.strip())


async def profile(ctx: Context, member: str | None = None) -> Reply:
    account, name = await resolve_member(ctx, member)
    data = await svc(ctx).profile(ctx.community.id, account)
    suggestions: list[SuggestionRow] | None = None
    loop = ctx.find_service(SuggestionService)
    if loop is not None:
        me = account == ctx.member.account_id
        own = me or ctx.is_admin
        # An anonymous suggestion is listed on its author's own profile only: a profile is
        # often shown in the channel, where it would name the author.
        suggestions = [
            r
            for r in await loop.mine(ctx.community.id, account)
            if (own or not r.hidden) and (me or not r.anonymous)
        ]
    return views.profile(
        ctx.t,
        name,
        data.points,
        data.rank,
        data.members,
        data.week,
        data.month,
        data.breakdown,
        data.tier,
        data.next_tier,
        suggestions,
        data.grants,
        data.grants_count,
        data.grants_total,
    )


async def leaderboard(ctx: Context, period: str = PeriodName.WEEK) -> Reply:
    board = await svc(ctx).standings(
        ctx.community.id, period, ctx.member.account_id, limit=views.LEADERBOARD_SIZE
    )
    names = await ctx.identity.display_names([r.account_id for r in board.top])
    return views.leaderboard(ctx.t, board.period, board.top, names, board.me)


async def tiers(ctx: Context) -> Reply:
    rows, counts = await svc(ctx).all_tiers(ctx.community.id)
    rules = await svc(ctx).rules(ctx.community.id)
    return views.tiers(ctx.t, rows, counts, rules)


PERIOD = Param(
    "period",
    ParamType.CHOICE,
    "param.leaderboard_period",
    required=False,
    choices=PERIODS,
    default=PeriodName.WEEK,
)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "profile",
            "help.profile",
            profile,
            (Param("member", ParamType.MEMBER, "param.profile_member", required=False, max=128),),
        )
    )
    c(CommandSpec("leaderboard", "help.leaderboard", leaderboard, (PERIOD,)))
    c(CommandSpec("tiers", "help.tiers", tiers))
