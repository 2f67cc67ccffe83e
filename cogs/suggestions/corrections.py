"""Corrections: an author edits or deletes their own suggestion for a while after posting it;
admins edit and delete any, restore deleted ones, and give the team's official response."""

from __future__ import annotations

from datetime import timedelta

from bot.core.actions import int_arg
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from bot.core.settings import SettingSpec
from cogs.suggestions import views
from cogs.suggestions.commands import ID, author_name, svc

EDIT_WINDOW = "edit_window"
DEFAULT_EDIT_WINDOW = int(timedelta(hours=1).total_seconds())


async def _window(ctx: Context) -> timedelta:
    seconds = await ctx.community_settings.get(ctx.community.id, EDIT_WINDOW)
    return timedelta(seconds=int(seconds))


async def edit(
    ctx: Context, id: int, title: str | None = None, details: str | None = None
) -> Reply:
    me = ctx.member.account_id
    row = await svc(ctx).edit(
        ctx.community.id,
        id,
        me,
        admin=ctx.is_admin,
        window=await _window(ctx),
        title=title,
        details=details,
    )
    if row.author_id != me:  # an admin corrected someone's post: its author is told
        await ctx.outbox.notify(
            ctx.community.id,
            [row.author_id],
            views.render_notice(ctx.translator, "notice.edited", id=row.id, title=row.title),
        )
    await ctx.subject_changed(views.subject(row.id))
    reply = views.card(
        ctx, row, author=await author_name(ctx, row), heading=ctx.t("edit.done", id=row.id)
    )
    reply.ephemeral = True
    return reply


async def delete(ctx: Context, id: int) -> Reply:
    me = ctx.member.account_id
    row = await svc(ctx).delete(
        ctx.community.id, id, me, admin=ctx.is_admin, window=await _window(ctx)
    )
    if row.author_id != me:
        await ctx.outbox.notify(
            ctx.community.id,
            [row.author_id],
            views.render_notice(ctx.translator, "notice.deleted", id=row.id, title=row.title),
        )
    await ctx.subject_changed(views.subject(row.id))
    return Reply(text=ctx.t("delete.done", id=row.id), ephemeral=True)


async def restore(ctx: Context, id: int) -> Reply:
    row = await svc(ctx).restore(ctx.community.id, id, ctx.member.account_id)
    await ctx.subject_changed(views.subject(row.id))
    key = "restore.done_hidden" if row.hidden else "restore.done"
    return Reply(text=ctx.t(key, id=row.id, title=row.title), ephemeral=True)


async def respond(ctx: Context, id: int, text: str | None = None) -> Reply:
    me = ctx.member.account_id
    row = await svc(ctx).set_response(ctx.community.id, id, text, me)
    if row.response:
        voters = await svc(ctx).voters(row.id)
        tell = [a for a in dict.fromkeys([row.author_id, *voters]) if a != me]
        await ctx.outbox.notify(
            ctx.community.id,
            tell,
            views.render_notice(
                ctx.translator, "notice.response", id=row.id, title=row.title, text=row.response
            ),
        )
    await ctx.subject_changed(views.subject(row.id))
    heading = ctx.t("response.set" if row.response else "response.cleared", id=row.id)
    reply = views.card(ctx, row, author=await author_name(ctx, row), heading=heading)
    if row.hidden:
        reply.ephemeral, reply.buttons, reply.subject = True, [], None
    return reply


async def post_view(ctx: Context, args: list[str]) -> Reply | None:
    """A suggestion's posted card as it should look now: the card, or a line saying it was
    taken down (deleted or hidden), with nothing to vote on."""
    row = await svc(ctx).get(ctx.community.id, int_arg(args), include_hidden=True)
    if row.hidden:
        key = "post.deleted" if row.deleted else "post.hidden"
        return Reply(title=f"#{row.id}", text=ctx.t(key), subject=views.subject(row.id))
    return views.card(ctx, row, author=await author_name(ctx, row))


def register(feature: FeatureSetup) -> None:
    feature.posts.add("sg", post_view)
    feature.settings.declare(
        SettingSpec(
            EDIT_WINDOW,
            "setting.edit_window",
            ParamType.DURATION,
            DEFAULT_EDIT_WINDOW,
            role=Role.ADMIN,
        )
    )
    c = feature.commands.add
    c(
        CommandSpec(
            "edit",
            "help.edit",
            edit,
            (
                ID,
                Param(
                    "title",
                    ParamType.TEXT,
                    "param.title",
                    required=False,
                    min=3,
                    max=120,
                    line=True,
                ),
                Param(
                    "details", ParamType.TEXT, "param.details", required=False, max=2000, rest=True
                ),
            ),
            rate=(10, 600.0),
            audit_admins=True,
        )
    )
    c(CommandSpec("delete", "help.delete", delete, (ID,), rate=(10, 600.0), audit_admins=True))
    c(CommandSpec("restore", "help.restore", restore, (ID,), role=Role.ADMIN))
    c(
        CommandSpec(
            "respond",
            "help.respond",
            respond,
            (
                ID,
                Param(
                    "text", ParamType.TEXT, "param.response", required=False, max=1000, rest=True
                ),
            ),
            role=Role.ADMIN,
        )
    )
