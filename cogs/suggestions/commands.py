"""Fan commands of the suggestion loop: suggest, vote, browse. Declared once for every platform."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from datetime import timedelta

from bot.core.actions import ActionSpec, int_arg, make_action
from bot.core.chinese import simplified
from bot.core.commands import Choice, CommandSpec, Param, ParamType, parse_int
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Button, Field, Reply
from cogs.suggestions import category_step, discussion_commands, views
from cogs.suggestions.service import Held, Submission, SuggestionService
from cogs.suggestions.status import ROADMAP_LANES
from storage.suggestions.posts import SuggestionRow

# Replies to a suggestion's message that count as a vote (in either script of Chinese).
PLUS_ONE = re.compile(
    r"^\s*(\+\s*1|👍|me\s*too|same(\s+here)?|i\s+want\s+this(\s+too)?|同求|我也需要|我也要|顶|\+\s*一)"
    r"[\s!！.。~～]*$",
    re.IGNORECASE,
)


def svc(ctx: Context) -> SuggestionService:
    return ctx.service(SuggestionService)


ANONYMOUS = "anonymous_suggestions"


async def author_name(ctx: Context, row: SuggestionRow) -> str | None:
    """The name shown on a suggestion's card: none for an anonymous one."""
    if row.anonymous:
        return None
    return (await ctx.identity.display_names([row.author_id])).get(row.author_id)


def _posted(ctx: Context, row: SuggestionRow) -> Reply:
    author = None if row.anonymous else ctx.member.display_name
    return views.card(ctx, row, author=author, heading=ctx.t("suggest.posted"))


async def suggest(
    ctx: Context, title: str, details: str | None = None, category: str | None = None
) -> Reply:
    category, step = await category_step.before_posting(ctx, title, details or "", category)
    if step is not None:
        return step
    sub = await svc(ctx).submit(
        ctx.community.id,
        ctx.member.account_id,
        title,
        details or "",
        category,
    )
    return submission_reply(ctx, sub)


def submission_reply(ctx: Context, sub: Submission) -> Reply:
    """The posted card, or the similar open suggestions with "+1 that one" / "post mine"."""
    if sub.posted is not None:
        return _posted(ctx, sub.posted)
    if sub.held is not None:
        return Reply(text=ctx.t(sub.held.key, **sub.held.params), ephemeral=True)
    t = ctx.t
    assert sub.draft_id is not None
    lines = [views.line(t, row) for row, _ in sub.similar]
    buttons = [
        Button(t("suggest.button.plus_that", id=row.id), make_action("sv", row.id), "primary")
        for row, _ in sub.similar
    ]
    buttons.append(Button(t("suggest.button.post_anyway"), make_action("sp", sub.draft_id)))
    return Reply(
        title=t("suggest.similar.title"),
        text="\n".join(lines),
        buttons=buttons,
        footer=t("suggest.similar.footer"),
        ephemeral=True,
    )


async def post_anyway(ctx: Context, args: list[str]) -> Reply:
    row = await svc(ctx).post_draft(ctx.community.id, int_arg(args), ctx.member.account_id)
    if isinstance(row, Held):
        return Reply(text=ctx.t(row.key, **row.params), ephemeral=True)
    return _posted(ctx, row)


async def _vote_reply(ctx: Context, sid: int, *, toggle: bool) -> Reply:
    s = svc(ctx)
    cid, me, receipt = ctx.community.id, ctx.member.account_id, ctx.receipt
    try:
        if toggle:
            row, voted, redirected = await s.toggle(cid, sid, me, receipt=receipt)
            key = "vote.added" if voted else "vote.removed"
        else:
            row, added, redirected = await s.vote(cid, sid, me, receipt=receipt)
            key = "vote.added" if added else "vote.already"
    except UserError:
        _recorded(ctx)  # refused, in the same committed batch as the receipt
        raise
    _recorded(ctx)
    text = ctx.t(key, id=row.id, title=row.title, votes=row.votes)
    if redirected:
        text = ctx.t("vote.redirected", id=redirected, into=row.id) + "\n" + text
    return Reply(text=text, ephemeral=True)


def _recorded(ctx: Context) -> None:
    """The vote writer recorded the delivery's receipt in the transaction of the vote."""
    if ctx.receipt is not None and svc(ctx).batched:
        ctx.receipt_recorded = True


async def vote(ctx: Context, id: int) -> Reply:
    return await _vote_reply(ctx, id, toggle=False)


async def vote_button(ctx: Context, args: list[str]) -> Reply:
    return await _vote_reply(ctx, int_arg(args), toggle=True)


async def vote_label(ctx: Context, args: list[str], label: str) -> str | None:
    """A vote button's label with the current count, in the language it was shown in; None
    for the buttons of the same action that show no count ("+1 #12 instead")."""
    sid = int_arg(args)
    tr = ctx.translator
    locale = tr.locale_of("suggest.button.vote", label, id=sid)
    if locale is None:
        return None
    row = await svc(ctx).get(ctx.community.id, sid)
    return tr(locale, "suggest.button.vote", id=row.id, votes=row.votes)


async def unvote(ctx: Context, id: int) -> Reply:
    try:
        row, removed = await svc(ctx).unvote(
            ctx.community.id, id, ctx.member.account_id, receipt=ctx.receipt
        )
    except UserError:
        _recorded(ctx)
        raise
    _recorded(ctx)
    key = "vote.removed" if removed else "vote.none"
    return Reply(text=ctx.t(key, id=row.id, title=row.title, votes=row.votes), ephemeral=True)


async def on_reply(ctx: Context, args: list[str], text: str) -> Reply | None:
    """ "+1", "me too", "同求", "我也需要" in reply to a suggestion's message is a vote; any
    other reply is a comment on it."""
    if not PLUS_ONE.match(simplified(text)):  # 頂 as 顶
        return await discussion_commands.on_reply(ctx, int_arg(args), text)
    return await _vote_reply(ctx, int_arg(args), toggle=False)


async def _category(ctx: Context, category: str | None) -> str | None:
    if category is None:
        return None
    return await category_step.categories(ctx).resolve(ctx.community.id, category)


def _in(ctx: Context, title: str, category: str | None) -> str:
    return ctx.t("list.in_category", title=title, category=category) if category else title


async def top(ctx: Context, by: str | None = None, category: str | None = None) -> Reply:
    s = svc(ctx)
    category = await _category(ctx, category)
    empty = "list.empty_category" if category else "list.empty"
    if by == "votes":
        rows = await s.by_votes(ctx.community.id, category=category)
        return views.listing(ctx, _in(ctx, ctx.t("list.top_votes"), category), rows, empty)
    days = int(await ctx.community_settings.get(ctx.community.id, "heat_half_life_days"))
    ranked = await s.top(ctx.community.id, timedelta(days=days), category=category)
    extras = {r.id: ctx.t("list.heat", heat=f"{h:.1f}") for r, h in ranked}
    title = _in(ctx, ctx.t("list.top"), category)
    return views.listing(ctx, title, [r for r, _ in ranked], empty, extras)


async def newest(ctx: Context, category: str | None = None) -> Reply:
    category = await _category(ctx, category)
    rows = await svc(ctx).newest(ctx.community.id, category=category)
    empty = "list.empty_category" if category else "list.empty"
    return views.listing(ctx, _in(ctx, ctx.t("list.new"), category), rows, empty)


async def search(ctx: Context, text: str, category: str | None = None) -> Reply:
    category = await _category(ctx, category)
    hits = await svc(ctx).search(ctx.community.id, text, category=category)
    title = _in(ctx, ctx.t("list.search", text=text), category)
    return views.listing(ctx, title, [r for r, _ in hits], "list.search_empty")


async def show(ctx: Context, id: int) -> Reply:
    row = await svc(ctx).get(ctx.community.id, id, include_hidden=ctx.is_admin)
    reply = views.card(ctx, row, author=await author_name(ctx, row))
    if row.anonymous and ctx.is_admin:  # for moderation: the name, to the admin alone
        name = (await ctx.identity.display_names([row.author_id])).get(row.author_id, "?")
        reply.fields.append(Field(ctx.t("show.anonymous_author"), name))
        reply.ephemeral = True
    comments = await discussion_commands.comments_field(ctx, row)
    if comments is not None:
        reply.fields.append(comments)
    if row.hidden:  # only admins get here: show it to them alone, with nothing to vote on
        reply.ephemeral = True
        reply.buttons = []
        reply.subject = None
        reply.footer = ctx.t("show.deleted" if row.deleted else "show.hidden")
    return reply


async def show_button(ctx: Context, args: list[str]) -> Reply:
    reply = await show(ctx, int_arg(args))
    reply.ephemeral = True
    return reply


async def mine(ctx: Context) -> Reply:
    rows = await svc(ctx).mine(ctx.community.id, ctx.member.account_id)
    deleted = {r.id: ctx.t("list.deleted") for r in rows if r.deleted}
    reply = views.listing(ctx, ctx.t("list.mine"), rows, "list.mine_empty", deleted)
    reply.ephemeral = True
    return reply


async def roadmap(ctx: Context) -> Reply:
    lanes = await svc(ctx).roadmap(ctx.community.id)
    t = ctx.t
    if not any(lanes.values()):
        return Reply(text=t("roadmap.empty"))
    parts = []
    for lane in ROADMAP_LANES:
        if lanes[lane]:
            parts.append(f"{views.status_label(t, lane)}:")
            parts.extend(f"  {views.line(t, r)}" for r in lanes[lane])
    return Reply(title=t("roadmap.title"), text="\n".join(parts))


async def suggestion_choices(ctx: Context, current: str) -> list[Choice]:
    """Suggestions to offer for an id being typed: by number, by words, else the newest."""
    s = svc(ctx)
    text = current.strip().lstrip("#")
    rows = []
    number = parse_int(text)
    if number is not None:
        with contextlib.suppress(UserError):
            rows.append(await s.get(ctx.community.id, number))
    elif text:
        rows = [row for row, _ in await s.search(ctx.community.id, text)]
    if not rows:
        rows = await s.newest(ctx.community.id, limit=25)
    return [Choice(f"#{r.id} {r.title} (👍 {r.votes})", str(r.id)) for r in rows[:25]]


def suggestion_id(name: str, help_key: str) -> Param:
    """A suggestion's number; platforms that can offer matching suggestions while the member
    types do so."""
    return Param(name, ParamType.INT, help_key, min=1, autocomplete=suggestion_choices)


ID = suggestion_id("id", "param.suggestion_id")
# A category by name (any case); platforms that can offer the community's categories do.
CATEGORY = Param(
    "category",
    ParamType.TEXT,
    "param.category",
    required=False,
    min=1,
    max=40,
    rest=True,
    autocomplete=category_step.category_choices,
)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "suggest",
            "help.suggest",
            suggest,
            (
                Param("title", ParamType.TEXT, "param.title", min=3, max=120, line=True),
                Param(
                    "details", ParamType.TEXT, "param.details", required=False, max=2000, rest=True
                ),
                replace(
                    CATEGORY, in_form=False, rest=False
                ),  # asked in a step of its own (category_step)
            ),
            rate=(5, 600.0),
            form=True,
        )
    )
    c(CommandSpec("vote", "help.vote", vote, (ID,), rate=(30, 60.0)))
    c(CommandSpec("unvote", "help.unvote", unvote, (ID,), rate=(30, 60.0)))
    c(
        CommandSpec(
            "top",
            "help.top",
            top,
            (
                Param(
                    "by",
                    ParamType.CHOICE,
                    "param.top_by",
                    required=False,
                    choices=("heat", "votes"),
                ),
                CATEGORY,
            ),
        )
    )
    c(CommandSpec("new", "help.new", newest, (CATEGORY,)))
    c(
        CommandSpec(
            "search",
            "help.search",
            search,
            (
                Param("text", ParamType.TEXT, "param.search", min=1, max=200, rest=True),
                replace(CATEGORY, keyword=True, rest=False),
            ),
        )
    )
    c(CommandSpec("show", "help.show", show, (ID,)))
    c(CommandSpec("mine", "help.mine", mine))
    c(CommandSpec("roadmap", "help.roadmap", roadmap))
    feature.actions.add(ActionSpec("sv", vote_button, rate=(30, 60.0)))
    feature.actions.add_label_refresher("sv", vote_label)
    feature.actions.add(ActionSpec("sp", post_anyway, rate=(5, 600.0)))
    feature.actions.add(ActionSpec("ss", show_button))
    feature.actions.add_reply_hook("sg", on_reply)
