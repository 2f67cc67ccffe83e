"""Commands of a suggestion's discussion: comment, remove a comment, follow, unfollow; replies
to a suggestion's card that are not votes, and messages in its thread, are comments."""

from __future__ import annotations

from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Field, Reply
from cogs.suggestions.discussion import DiscussionService, clip
from cogs.suggestions.service import SuggestionService
from storage.suggestions.comments import CommentRow
from storage.suggestions.discussion_schema import COMMENT_MAX
from storage.suggestions.posts import SuggestionRow

#: Comments listed under a suggestion by /show, and characters quoted of each: five fit in
#: one Discord embed field (1 024 characters).
SHOWN = 5
SHOWN_QUOTE = 150

# Set by an adapter on the context of a platform message that became a comment: the message's
# own id (so a redelivery is kept once) and whether it was written in the suggestion's thread.
ORIGIN = "origin"
IN_THREAD = "in_thread"


def discussion(ctx: Context) -> DiscussionService:
    return ctx.service(DiscussionService)


async def _suggestion(ctx: Context, sid: int) -> SuggestionRow:
    return await ctx.service(SuggestionService).get(ctx.community.id, sid)


def _added(ctx: Context, row: CommentRow, suggestion: SuggestionRow) -> Reply:
    text = ctx.t("comment.added", comment=row.id, id=suggestion.id, title=suggestion.title)
    return Reply(text=text, ephemeral=True)


async def comment(ctx: Context, id: int, text: str) -> Reply:
    suggestion = await _suggestion(ctx, id)
    posted = await discussion(ctx).comment(
        suggestion,
        ctx.member.account_id,
        ctx.member.display_name,
        text,
        platform=ctx.platform,
    )
    assert posted is not None  # no origin: never a repeat
    return _added(ctx, posted.comment, suggestion)


async def on_reply(ctx: Context, sid: int, text: str) -> Reply | None:
    """A reply to a suggestion's card (or a message in its thread) that is not a vote."""
    extras = ctx.extras or {}
    origin = extras.get(ORIGIN)
    if not text.strip():
        return None
    suggestion = await _suggestion(ctx, sid)
    posted = await discussion(ctx).comment(
        suggestion,
        ctx.member.account_id,
        ctx.member.display_name,
        text,
        platform=ctx.platform,
        origin=f"{ctx.platform}:{origin}" if origin else None,
        in_thread=bool(extras.get(IN_THREAD)),
    )
    if posted is None:
        return None  # a redelivered message, kept the first time
    return _added(ctx, posted.comment, suggestion)


async def _in_community(ctx: Context, comment: int) -> None:
    """A comment of another community (or of a hidden suggestion) is as unknown as none."""
    row = await discussion(ctx).get(comment)
    if row is not None:
        try:
            await _suggestion(ctx, row.suggestion_id)
            return
        except UserError:
            pass
    raise UserError("comment.unknown", id=comment)


async def uncomment(ctx: Context, comment: int) -> Reply:
    await _in_community(ctx, comment)
    removed = await discussion(ctx).delete(ctx.community.id, comment, ctx.member.account_id)
    text = ctx.t("comment.deleted", comment=comment, id=removed.suggestion_id)
    return Reply(text=text, ephemeral=True)


async def hidecomment(ctx: Context, comment: int) -> Reply:
    await _in_community(ctx, comment)
    removed = await discussion(ctx).hide(ctx.community.id, comment, ctx.member.account_id)
    text = ctx.t("comment.hidden", comment=comment, id=removed.suggestion_id)
    return Reply(text=text, ephemeral=True)


async def follow(ctx: Context, id: int) -> Reply:
    suggestion = await _suggestion(ctx, id)
    changed = await discussion(ctx).follow(suggestion, ctx.member.account_id)
    key = "follow.done" if changed else "follow.already"
    return Reply(text=ctx.t(key, id=id, title=suggestion.title), ephemeral=True)


async def unfollow(ctx: Context, id: int) -> Reply:
    suggestion = await _suggestion(ctx, id)
    s = discussion(ctx)
    was = await s.follows(suggestion, ctx.member.account_id)
    await s.unfollow(suggestion, ctx.member.account_id)
    key = "unfollow.done" if was else "unfollow.already"
    return Reply(text=ctx.t(key, id=id, title=suggestion.title), ephemeral=True)


async def comments_field(ctx: Context, suggestion: SuggestionRow) -> Field | None:
    """The latest comments under a suggestion, with how many there are; None if none."""
    rows, count = await discussion(ctx).latest(suggestion.id, SHOWN)
    if not rows:
        return None
    names = await ctx.identity.display_names([r.author_id for r in rows])
    lines = [
        ctx.t(
            "comment.listed",
            comment=r.id,
            name=names.get(r.author_id, "?"),
            text=clip(r.body, SHOWN_QUOTE),
        )
        for r in rows
    ]
    if count > len(rows):
        lines.insert(0, ctx.t("comment.earlier", count=count - len(rows)))
    return Field(ctx.t("comment.field", count=count), "\n".join(lines))


def register(feature: FeatureSetup, ident: Param) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "comment",
            "help.comment",
            comment,
            (
                ident,
                Param("text", ParamType.TEXT, "param.comment", min=1, max=COMMENT_MAX, rest=True),
            ),
            rate=(10, 60.0),
        )
    )
    c(
        CommandSpec(
            "uncomment",
            "help.uncomment",
            uncomment,
            (Param("comment", ParamType.INT, "param.comment_id", min=1),),
        )
    )
    c(
        CommandSpec(
            "hidecomment",
            "help.hidecomment",
            hidecomment,
            (Param("comment", ParamType.INT, "param.comment_id", min=1),),
            role=Role.ADMIN,
        )
    )
    c(CommandSpec("follow", "help.follow", follow, (ident,)))
    c(CommandSpec("unfollow", "help.unfollow", unfollow, (ident,)))
