"""The review queue in chat: /review lists it with buttons (approve, reject with a reason,
hide or dismiss a report); /approve, /reject, /dismiss and /uphold do the same by command."""

from __future__ import annotations

from bot.core.actions import ActionSpec, int_arg, make_action
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply, Select, SelectOption
from cogs.moderation import views
from cogs.moderation.queue import CODE, REJECT_CODES, QueueService, reason_text
from cogs.suggestions.service import SuggestionService


def queue(ctx: Context) -> QueueService:
    return ctx.service(QueueService)


async def _page(ctx: Context, offset: int) -> Reply:
    q = queue(ctx)
    items, total = await q.repo.pending(ctx.community.id, limit=views.PAGE, offset=offset)
    names = await ctx.identity.display_names([i.author_id for i in items]) if items else {}
    titles: dict[int, str] = {}
    for item in items:
        if item.suggestion_id is not None and item.suggestion_id not in titles:
            row = await ctx.service(SuggestionService).repo.get(
                ctx.community.id, item.suggestion_id
            )
            titles[item.suggestion_id] = row.title if row else "?"
    return views.queue_page(ctx.t, items, total, offset, names, titles)


async def review(ctx: Context) -> Reply:
    return await _page(ctx, 0)


async def review_more(ctx: Context, args: list[str]) -> Reply:
    return await _page(ctx, int_arg(args))


async def approve(ctx: Context, id: int) -> Reply:
    row = await queue(ctx).approve(ctx.community.id, id, ctx.member.account_id)
    return Reply(text=ctx.t("review.approved", id=id, sid=row.id, title=row.title), ephemeral=True)


async def reject(ctx: Context, id: int, reason: str) -> Reply:
    item = await queue(ctx).reject(ctx.community.id, id, ctx.member.account_id, reason.strip())
    return Reply(text=ctx.t("review.rejected", id=id, title=item.title), ephemeral=True)


async def dismiss(ctx: Context, id: int) -> Reply:
    await queue(ctx).dismiss(ctx.community.id, id, ctx.member.account_id)
    return Reply(text=ctx.t("review.dismissed", id=id), ephemeral=True)


async def uphold(ctx: Context, id: int) -> Reply:
    row = await queue(ctx).hide_reported(ctx.community.id, id, ctx.member.account_id)
    return Reply(text=ctx.t("review.hidden", id=id, sid=row.id), ephemeral=True)


async def reasons(ctx: Context, args: list[str]) -> Reply:
    """The reject button: pick a reason (or type one with /reject)."""
    item = await queue(ctx).item(ctx.community.id, int_arg(args), "post")
    options = tuple(
        SelectOption(ctx.t(f"review.reason.{code}"), make_action("rv", "x", item.id, code))
        for code in REJECT_CODES
    )
    return Reply(
        text=ctx.t("review.pick_reason", id=item.id, title=item.title),
        select=Select(ctx.t("review.reason_placeholder"), options),
        ephemeral=True,
    )


async def decide(ctx: Context, args: list[str]) -> Reply:
    """A decision button: `rv:a:<item>` approve, `rv:x:<item>:<reason>` reject, `rv:h:<item>`
    hide the reported suggestion, `rv:d:<item>` dismiss the report."""
    verb, rest = (args[0], args[1:]) if args else ("", [])
    if verb == "a":
        return await approve(ctx, int_arg(rest))
    if verb == "x":
        item_id = int_arg(rest)
        code = rest[1] if len(rest) > 1 else ""
        if code not in REJECT_CODES:
            raise UserError("error.action.unknown")
        item = await queue(ctx).reject(
            ctx.community.id, item_id, ctx.member.account_id, CODE + code
        )
        reason = reason_text(ctx.translator, ctx.locale, CODE + code)
        return Reply(
            text=ctx.t("review.rejected_reason", id=item_id, title=item.title, reason=reason),
            ephemeral=True,
        )
    if verb == "h":
        return await uphold(ctx, int_arg(rest))
    if verb == "d":
        return await dismiss(ctx, int_arg(rest))
    raise UserError("error.action.unknown")


ITEM = Param("id", ParamType.INT, "param.review.id", min=1)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(CommandSpec("review", "help.review", review, role=Role.ADMIN, audit=False))
    c(CommandSpec("approve", "help.approve", approve, (ITEM,), role=Role.ADMIN))
    c(
        CommandSpec(
            "reject",
            "help.reject",
            reject,
            (
                ITEM,
                Param(
                    "reason", ParamType.TEXT, "param.moderation.reason", min=1, max=300, rest=True
                ),
            ),
            role=Role.ADMIN,
        )
    )
    c(CommandSpec("dismiss", "help.dismiss", dismiss, (ITEM,), role=Role.ADMIN))
    c(CommandSpec("uphold", "help.uphold", uphold, (ITEM,), role=Role.ADMIN))
    feature.actions.add(ActionSpec("rv", decide, role=Role.ADMIN))
    feature.actions.add(ActionSpec("rr", reasons, role=Role.ADMIN, audit=False))
    feature.actions.add(ActionSpec("rq", review_more, role=Role.ADMIN, audit=False))
