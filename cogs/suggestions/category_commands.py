"""/category add|remove|list (owners declare, everyone reads), /category set (admins move a
suggestion), and the pick of the /suggest category step."""

from __future__ import annotations

from bot.core.actions import ActionSpec, int_args
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.suggestions import views
from cogs.suggestions.categories import MAX_CATEGORIES, NAME_MAX
from cogs.suggestions.category_step import PICK, categories, category_choices
from cogs.suggestions.commands import ID, submission_reply, svc


async def add(ctx: Context, name: str) -> Reply:
    row = await categories(ctx).add(ctx.community.id, name)
    count = len(await categories(ctx).all(ctx.community.id))
    return Reply(text=ctx.t("category.added", name=row.name, count=count, max=MAX_CATEGORIES))


async def remove(ctx: Context, name: str) -> Reply:
    row, left = await categories(ctx).remove(ctx.community.id, name)
    return Reply(text=ctx.t("category.removed", name=row.name, count=left))


async def list_(ctx: Context) -> Reply:
    rows = await categories(ctx).all(ctx.community.id)
    if not rows:
        return Reply(text=ctx.t("category.list.empty"), ephemeral=True)
    return Reply(
        title=ctx.t("category.list.title", count=len(rows)),
        text="\n".join(f"• {r.name}" for r in rows),
        footer=ctx.t("category.list.footer"),
        ephemeral=True,
    )


async def set_(ctx: Context, id: int, category: str) -> Reply:
    cid = ctx.community.id
    await svc(ctx).get(cid, id, include_hidden=True)
    name = await categories(ctx).resolve_or_none(cid, category)
    old, row = await categories(ctx).set_suggestion(cid, id, name, ctx.member.account_id)
    none = ctx.t("category.none")
    heading = ctx.t("category.changed", id=row.id, old=old or none, new=name or none)
    return views.card(ctx, row, heading=heading)


async def pick(ctx: Context, args: list[str]) -> Reply:
    draft_id, category_id = int_args(args, 2)
    cid, me = ctx.community.id, ctx.member.account_id
    await categories(ctx).choose_for_draft(cid, draft_id, me, category_id)
    # A draft that is not theirs, or posted already, is refused here, with the reason.
    return submission_reply(ctx, await svc(ctx).continue_draft(cid, draft_id, me))


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    name = Param("name", ParamType.TEXT, "param.category_name", min=1, max=NAME_MAX, rest=True)
    existing = Param(
        "name",
        ParamType.TEXT,
        "param.category_name",
        min=1,
        max=40,
        rest=True,
        autocomplete=category_choices,
    )
    c(CommandSpec("category add", "help.category.add", add, (name,), role=Role.OWNER))
    c(CommandSpec("category remove", "help.category.remove", remove, (existing,), role=Role.OWNER))
    c(CommandSpec("category list", "help.category.list", list_))
    c(
        CommandSpec(
            "category set",
            "help.category.set",
            set_,
            (
                ID,
                Param(
                    "category",
                    ParamType.TEXT,
                    "param.category_or_none",
                    min=1,
                    max=40,
                    rest=True,
                    autocomplete=category_choices,
                ),
            ),
            role=Role.ADMIN,
        )
    )
    feature.actions.add(ActionSpec(PICK, pick, rate=(10, 600.0)))
