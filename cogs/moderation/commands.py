"""Admin commands of moderation: mute, the word filter, the audit log; and a fan's report."""

from __future__ import annotations

from bot.core.actions import ActionSpec, int_args, make_action
from bot.core.clock import local_time
from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Button, Reply
from cogs.moderation import views
from cogs.moderation.members import named_member
from cogs.moderation.mutes import MuteService, parse_mute_duration
from cogs.moderation.queue import QueueService
from cogs.moderation.words import MAX_WORDS, filter_word
from storage.core.audit import AuditRepo
from storage.moderation.words import WordRepo

AUDIT_LIMIT = 10


def mutes(ctx: Context) -> MuteService:
    return ctx.service(MuteService)


async def mute(ctx: Context, member: str, duration: str, reason: str) -> Reply:
    length = parse_mute_duration(duration)
    account, name = await named_member(ctx, member)
    if account == ctx.member.account_id:
        raise UserError("mute.self")
    until = await mutes(ctx).mute(
        ctx.community.id, account, length, reason.strip(), ctx.member.account_id
    )
    tz = await ctx.timezone()
    when = local_time(until, tz) if until else None
    tr = ctx.translator

    def render(locale: str) -> Reply:
        if when is None:
            return Reply(text=tr(locale, "mute.notice_forever", reason=reason.strip()))
        return Reply(text=tr(locale, "mute.notice", until=when, reason=reason.strip()))

    await ctx.outbox.notify(ctx.community.id, [account], render, force=True)
    if when is None:
        return Reply(text=ctx.t("mute.done_forever", name=name), ephemeral=True)
    return Reply(text=ctx.t("mute.done", name=name, until=when), ephemeral=True)


async def unmute(ctx: Context, member: str) -> Reply:
    account, name = await named_member(ctx, member)
    if not await mutes(ctx).unmute(ctx.community.id, account):
        raise UserError("unmute.not_muted", name=name)
    tr = ctx.translator
    await ctx.outbox.notify(
        ctx.community.id, [account], lambda loc: Reply(text=tr(loc, "unmute.notice")), force=True
    )
    return Reply(text=ctx.t("unmute.done", name=name), ephemeral=True)


def words(ctx: Context) -> WordRepo:
    return ctx.service(WordRepo)


def _word(raw: str) -> str:
    word = filter_word(raw)
    if word is None:
        raise UserError("filter.blank")
    return word


async def filter_add(ctx: Context, word: str) -> Reply:
    cleaned = _word(word)
    repo = words(ctx)
    if await repo.count(ctx.community.id) >= MAX_WORDS:
        raise UserError("filter.full", count=MAX_WORDS)
    if not await repo.add(ctx.community.id, cleaned, ctx.member.account_id, ctx.now()):
        raise UserError("filter.already", word=cleaned)
    return Reply(text=ctx.t("filter.added", word=cleaned), ephemeral=True)


async def filter_remove(ctx: Context, word: str) -> Reply:
    cleaned = _word(word)
    if not await words(ctx).remove(ctx.community.id, cleaned):
        raise UserError("filter.unknown", word=cleaned)
    return Reply(text=ctx.t("filter.removed", word=cleaned), ephemeral=True)


async def filter_list(ctx: Context) -> Reply:
    listed = await words(ctx).words(ctx.community.id)
    if not listed:
        return Reply(text=ctx.t("filter.empty"), ephemeral=True)
    return Reply(
        title=ctx.t("filter.title", count=len(listed)), text=", ".join(listed), ephemeral=True
    )


async def flag(ctx: Context, id: int, reason: str) -> Reply:
    item = await ctx.service(QueueService).report(
        ctx.community.id, id, ctx.member.account_id, reason.strip()
    )
    return Reply(text=ctx.t("report.done", id=id, item=item), ephemeral=True)


async def _audit(
    ctx: Context, member: int | None, name: str | None, limit: int, offset: int
) -> Reply:
    entries, more = await ctx.service(AuditRepo).page(
        ctx.community.id, member=member, limit=limit, offset=offset
    )
    targets = [e.target_id for e in entries if e.target_id is not None]
    names = await ctx.identity.display_names(targets) if targets else {}
    button = None
    if more:
        action = make_action("au", offset + limit, member or 0, limit)
        button = Button(ctx.t("moderation.next"), action)
    return views.audit_page(
        ctx.t, ctx.translator.has, entries, names, await ctx.timezone(), button, name
    )


async def audit(ctx: Context, member: str | None = None, limit: int = AUDIT_LIMIT) -> Reply:
    account, name = await named_member(ctx, member) if member else (None, None)
    return await _audit(ctx, account, name, limit, 0)


async def audit_more(ctx: Context, args: list[str]) -> Reply:
    offset, member, limit = int_args(args, 3)
    if not 1 <= limit <= 50:
        raise UserError("error.action.unknown")
    name = None
    if member:
        name = (await ctx.identity.display_names([member])).get(member, "?")
    return await _audit(ctx, member or None, name, limit, offset)


MEMBER = Param("member", ParamType.MEMBER, "param.moderation.member", max=128)
REASON = Param("reason", ParamType.TEXT, "param.moderation.reason", min=1, max=300, rest=True)
WORD = Param("word", ParamType.TEXT, "param.filter.word", min=1, max=64, rest=True)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "mute",
            "help.mute",
            mute,
            (
                MEMBER,
                Param("duration", ParamType.TEXT, "param.mute.duration", min=1, max=20),
                REASON,
            ),
            role=Role.ADMIN,
        )
    )
    c(CommandSpec("unmute", "help.unmute", unmute, (MEMBER,), role=Role.ADMIN))
    c(CommandSpec("filter add", "help.filter.add", filter_add, (WORD,), role=Role.ADMIN))
    c(CommandSpec("filter remove", "help.filter.remove", filter_remove, (WORD,), role=Role.ADMIN))
    c(CommandSpec("filter list", "help.filter.list", filter_list, role=Role.ADMIN, audit=False))
    c(
        CommandSpec(
            "flag",
            "help.flag",
            flag,
            (
                Param("id", ParamType.INT, "param.flag.id", min=1),
                Param("reason", ParamType.TEXT, "param.flag.reason", min=1, max=300, rest=True),
            ),
            rate=(5, 600.0),
        )
    )
    c(
        CommandSpec(
            "audit",
            "help.audit",
            audit,
            (
                Param("member", ParamType.MEMBER, "param.audit.member", required=False, max=128),
                Param(
                    "limit",
                    ParamType.INT,
                    "param.audit.limit",
                    required=False,
                    min=1,
                    max=50,
                    default=AUDIT_LIMIT,
                ),
            ),
            role=Role.ADMIN,
            audit=False,
        )
    )
    feature.actions.add(ActionSpec("au", audit_more, role=Role.ADMIN, audit=False))
