"""Owner commands of the participation record: tiers, recomputing points, F-codes for the top."""

from __future__ import annotations

from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.participation import views
from cogs.participation.commands import PERIOD, resolve_member, svc
from cogs.participation.periods import PeriodName
from storage.participation.schema import MAX_GRANT

TIER = Param("name", ParamType.TEXT, "param.tier_name", min=1, max=40)


async def tier_set(ctx: Context, name: str, points: int, role: str | None = None) -> Reply:
    tier, created, holders = await svc(ctx).set_tier(ctx.community.id, name, points, role)
    key = "tier.created" if created else "tier.changed"
    role_text = tier.role or ctx.t("tier.no_role")
    return Reply(
        text=ctx.t(key, name=tier.name, points=tier.threshold, role=role_text, count=holders)
    )


async def tier_remove(ctx: Context, name: str) -> Reply:
    tier, held = await svc(ctx).remove_tier(ctx.community.id, name)
    return Reply(text=ctx.t("tier.removed", name=tier.name, count=held))


async def tier_list(ctx: Context, name: str) -> Reply:
    tier, held = await svc(ctx).tier_members(ctx.community.id, name)
    names = await ctx.identity.display_names([h.account_id for h in held])
    return views.tier_members(ctx.t, tier, held, names)


async def recompute(ctx: Context) -> Reply:
    r = await svc(ctx).recompute(ctx.community.id)
    return Reply(
        text=ctx.t(
            "points.recomputed",
            rows=r.rows,
            members=r.members,
            before=r.points_before,
            after=r.points_after,
        ),
        ephemeral=True,
    )


async def reward(ctx: Context, drop: int, count: int, period: str = PeriodName.WEEK) -> Reply:
    cid = ctx.community.id
    result = await svc(ctx).reward(cid, drop, count, period, ctx.member.account_id)
    chosen = result.chosen
    names = await ctx.identity.display_names([r.account_id for r in chosen])
    for r in chosen:
        code = result.codes.get(r.account_id)
        if code is None:
            continue
        await ctx.outbox.notify(
            cid,
            [r.account_id],
            views.render_fcode(
                ctx.translator, ctx.community.name, r.rank, result.period, drop, code
            ),
            dedup_key=f"points-fcode:{cid}:{drop}:{code}",
            force=True,
        )
    given = [names.get(r.account_id, "?") for r in chosen if r.account_id in result.codes]
    lines = [
        ctx.t(
            "points.reward.done",
            count=len(given),
            drop=drop,
            period=views.period_label(ctx.t, result.period),
            names=", ".join(given),
        )
    ]
    skipped = len(chosen) - len(given)
    if skipped:
        lines.append(ctx.t("points.reward.skipped", count=skipped))
    if result.tied_out:
        lines.append(ctx.t("points.reward.tie", count=result.tied_out, points=chosen[-1].points))
    return Reply(text="\n".join(lines))


async def grant(ctx: Context, member: str, points: int, reason: str) -> Reply:
    return await _by_hand(ctx, member, points, reason)


async def deduct(ctx: Context, member: str, points: int, reason: str) -> Reply:
    return await _by_hand(ctx, member, -points, reason)


async def _by_hand(ctx: Context, member: str, points: int, reason: str) -> Reply:
    account, name = await resolve_member(ctx, member)
    cid = ctx.community.id
    total = await svc(ctx).grant(cid, account, points, reason, ctx.member.account_id)
    key = "points.granted" if points > 0 else "points.deducted"
    if account != ctx.member.account_id:
        await ctx.outbox.notify(
            cid, [account], views.render_grant(ctx.translator, points, reason.strip(), total)
        )
    return Reply(
        text=ctx.t(key, name=name, points=abs(points), reason=reason.strip(), total=total),
        ephemeral=True,
    )


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "tier set",
            "help.tier_set",
            tier_set,
            (
                TIER,
                Param("points", ParamType.INT, "param.tier_points", min=1, max=10_000_000),
                Param(
                    "role", ParamType.TEXT, "param.tier_role", required=False, max=100, rest=True
                ),
            ),
            role=Role.OWNER,
        )
    )
    c(CommandSpec("tier remove", "help.tier_remove", tier_remove, (TIER,), role=Role.OWNER))
    c(CommandSpec("tier list", "help.tier_list", tier_list, (TIER,), role=Role.OWNER))
    c(
        CommandSpec(
            "points recompute", "help.points_recompute", recompute, role=Role.OWNER, rate=(3, 600.0)
        )
    )
    for name, handler in (("points grant", grant), ("points deduct", deduct)):
        c(
            CommandSpec(
                name,
                f"help.{name.replace(' ', '_')}",
                handler,
                (
                    Param("member", ParamType.MEMBER, "param.points_member", max=128),
                    Param("points", ParamType.INT, "param.points_amount", min=1, max=MAX_GRANT),
                    Param(
                        "reason", ParamType.TEXT, "param.points_reason", min=1, max=200, rest=True
                    ),
                ),
                role=Role.OWNER,
            )
        )
    c(
        CommandSpec(
            "points reward",
            "help.points_reward",
            reward,
            (
                Param("drop", ParamType.INT, "param.reward_drop", min=1),
                Param("count", ParamType.INT, "param.reward_count", min=1, max=1000),
                PERIOD,
            ),
            role=Role.OWNER,
            fillers=("to", "top", "给", "前"),
        )
    )
