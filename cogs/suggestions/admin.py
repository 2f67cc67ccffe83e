"""Admin commands of the suggestion loop: merge, unmerge, statuses, hiding. Voters hear of it."""

from __future__ import annotations

from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.suggestions import views
from cogs.suggestions.commands import ID, suggestion_id, svc
from cogs.suggestions.status import STATUS_FLOW


async def merge(ctx: Context, duplicate: int, original: int) -> Reply:
    result = await svc(ctx).merge(ctx.community.id, duplicate, original, ctx.member.account_id)
    dup, orig = result.duplicate, result.original
    tell = [
        a
        for a in dict.fromkeys([dup.author_id, *result.duplicate_voters])
        if a != ctx.member.account_id
    ]
    await ctx.outbox.notify(
        ctx.community.id,
        tell,
        views.render_notice(
            ctx.translator,
            "notice.merged",
            id=dup.id,
            title=dup.title,
            into=orig.id,
            into_title=orig.title,
            votes=orig.votes,
        ),
        dedup_key=f"merge:{result.merge_id}",
    )
    return Reply(
        text=ctx.t(
            "merge.done",
            id=dup.id,
            into=orig.id,
            title=orig.title,
            added=result.added_votes,
            votes=orig.votes,
        ),
        buttons=[views.vote_button(ctx.t, orig)],
        subject=views.subject(orig.id),
    )


async def unmerge(ctx: Context, duplicate: int) -> Reply:
    row, original, taken = await svc(ctx).unmerge(
        ctx.community.id, duplicate, ctx.member.account_id
    )
    return Reply(
        text=ctx.t("unmerge.done", id=row.id, original=original, taken=taken, votes=row.votes)
    )


async def status(ctx: Context, id: int, status: str, note: str | None = None) -> Reply:
    old, row = await svc(ctx).set_status(ctx.community.id, id, status, note, ctx.member.account_id)
    voters = await svc(ctx).voters(row.id)
    tell = [a for a in dict.fromkeys([row.author_id, *voters]) if a != ctx.member.account_id]
    key = "notice.status_note" if note else "notice.status"
    told = await ctx.outbox.notify(
        ctx.community.id,
        tell,
        views.render_notice(
            ctx.translator, key, id=row.id, title=row.title, status=row.status, note=note or ""
        ),
    )
    heading = ctx.t(
        "status.changed",
        id=row.id,
        old=views.status_label(ctx.t, old),
        new=views.status_label(ctx.t, row.status),
    )
    reply = views.card(ctx, row, heading=heading)
    reply.footer = ctx.t("status.told", count=told)
    return reply


async def hide(ctx: Context, id: int) -> Reply:
    row = await svc(ctx).set_hidden(ctx.community.id, id, True, ctx.member.account_id)
    return Reply(text=ctx.t("hide.done", id=row.id), ephemeral=True)


async def unhide(ctx: Context, id: int) -> Reply:
    row = await svc(ctx).set_hidden(ctx.community.id, id, False, ctx.member.account_id)
    return Reply(text=ctx.t("unhide.done", id=row.id), ephemeral=True)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "merge",
            "help.merge",
            merge,
            (
                suggestion_id("duplicate", "param.duplicate"),
                suggestion_id("original", "param.original"),
            ),
            role=Role.ADMIN,
            fillers=("into", "到", "->"),
        )
    )
    c(
        CommandSpec(
            "unmerge",
            "help.unmerge",
            unmerge,
            (suggestion_id("duplicate", "param.duplicate"),),
            role=Role.ADMIN,
        )
    )
    c(
        CommandSpec(
            "status",
            "help.status",
            status,
            (
                ID,
                Param("status", ParamType.CHOICE, "param.status", choices=STATUS_FLOW),
                Param("note", ParamType.TEXT, "param.note", required=False, max=500, rest=True),
            ),
            role=Role.ADMIN,
        )
    )
    c(CommandSpec("hide", "help.hide", hide, (ID,), role=Role.ADMIN))
    c(CommandSpec("unhide", "help.unhide", unhide, (ID,), role=Role.ADMIN))
