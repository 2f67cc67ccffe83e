"""Owner commands of drops: create, edit, cancel, F-codes, export, stats."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.csv_files import csv_bytes
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.outbox import LIVE_EDIT
from bot.core.reply import Field, Reply
from cogs.drops import eligibility, views
from cogs.drops.commands import DROP, roles_of, svc
from cogs.drops.modes import DropMode, WinSource
from cogs.drops.service import split_list

MAX_CODES = 500  # unnamed F-codes issued at once


async def create(
    ctx: Context,
    name: str,
    quota: int,
    drop: datetime,
    mode: str = DropMode.FLASH,
    opens: datetime | None = None,
    closes: datetime | None = None,
    confirm: timedelta | None = None,
    limit: int = 1,
    waitlist: int | None = None,
    roles: str | None = None,
    min_days: int = 0,
    min_score: int = 0,
    tiers: str | None = None,
    description: str | None = None,
) -> Reply:
    s = svc(ctx)
    await _check_who(ctx, roles, tiers)
    row = await s.create(
        ctx.community.id,
        ctx.member.account_id,
        name=name,
        quota=quota,
        drop_at=drop,
        mode=mode,
        opens_at=opens,
        closes_at=closes,
        confirm=timedelta(days=2) if confirm is None else confirm,
        per_account=limit,
        waitlist=waitlist,
        roles=split_list(roles),
        min_days=min_days,
        min_score=min_score,
        tiers=split_list(tiers),
        description=description or "",
    )
    if row.opens_at <= ctx.now() and s.kick is not None:
        await s.kick()  # reservations open now: announce the drop at once
        row = await s.get(ctx.community.id, row.id)
    tz = await ctx.timezone()
    warning = ""
    if eligibility.needs_scores(row) and s.scores is None:
        warning = "\n⚠ " + ctx.t("drop.warn.no_scores")
    if row.opened_at is not None:
        # Announced already: the card is in the channel, so the owner is not sent a second copy.
        text = ctx.t(
            "drop.created_posted", id=row.id, name=row.name, closes=views.when(row.closes_at, tz)
        )
        return Reply(text=text + warning, ephemeral=True)
    # Reservations open later: a private preview now, the public card when they open.
    heading = ctx.t("drop.created", id=row.id, name=row.name, opens=views.when(row.opens_at, tz))
    heading += warning
    reply = views.card(ctx.t, row, await s.counts(row.id), tz, ctx.now(), heading)
    reply.buttons = []  # the public message with the reserve button comes when it opens
    reply.ephemeral = True
    return reply


async def edit(
    ctx: Context,
    drop: int,
    name: str | None = None,
    quota: int | None = None,
    when: datetime | None = None,
    mode: str | None = None,
    opens: datetime | None = None,
    closes: datetime | None = None,
    confirm: timedelta | None = None,
    limit: int | None = None,
    waitlist: int | None = None,
    roles: str | None = None,
    min_days: int | None = None,
    min_score: int | None = None,
    tiers: str | None = None,
    description: str | None = None,
) -> Reply:
    given: dict[str, Any] = {
        "name": name,
        "quota": quota,
        "drop_at": when,
        "mode": mode,
        "opens_at": opens,
        "closes_at": closes,
        "confirm_seconds": None if confirm is None else int(confirm.total_seconds()),
        "per_account": limit,
        "waitlist": waitlist,
        "min_days": min_days,
        "min_score": min_score,
        "description": description,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if roles is not None:
        changes["roles"] = split_list(roles)
    if tiers is not None:
        changes["tiers"] = split_list(tiers)
    s = svc(ctx)
    await _check_who(ctx, roles, tiers)
    row = await s.edit(ctx.community.id, drop, changes)
    tz = await ctx.timezone()
    heading = ctx.t("drop.edited", id=row.id, name=row.name)
    if eligibility.needs_scores(row) and s.scores is None:
        heading += "\n⚠ " + ctx.t("drop.warn.no_scores")
    if row.opened_at is not None:
        # The drop's card in the group shows the new values at once (edited in place), so the
        # owner is answered in a line, not sent a second copy of the card.
        counts = await s.counts(row.id)
        now = ctx.now()
        await ctx.outbox.announce(
            ctx.community.id,
            views.render(ctx.translator, lambda t: views.status(t, row, counts, tz, now)),
            live=LIVE_EDIT,
        )
        return Reply(text=heading + "\n" + ctx.t("drop.edited_posted"), ephemeral=True)
    reply = views.card(ctx.t, row, await s.counts(row.id), tz, ctx.now(), heading)
    reply.buttons = []
    reply.ephemeral = True
    return reply


async def _check_who(ctx: Context, roles: str | None, tiers: str | None) -> None:
    """Refuse roles and tiers nobody can have, instead of storing a drop nobody can reserve."""
    if split_list(roles) and roles_of(ctx) is None:
        raise UserError("drop.error.roles_platform")
    wanted = split_list(tiers)
    scores = svc(ctx).scores
    if wanted and scores is not None:
        known = await scores.tier_names(ctx.community.id)
        folded = {name.casefold() for name in known}
        unknown = [name for name in wanted if name.casefold() not in folded]
        if unknown:
            raise UserError(
                "drop.error.tier_unknown",
                tiers=", ".join(unknown),
                known=", ".join(known) or "—",
            )


async def cancel(ctx: Context, drop: int) -> Reply:
    s = svc(ctx)
    before = await s.get(ctx.community.id, drop)
    if before.cancelled_at is not None:
        tz = await ctx.timezone()
        return Reply(
            text=ctx.t(
                "drop.cancelled_already", name=before.name, at=views.when(before.cancelled_at, tz)
            ),
            ephemeral=True,
        )
    row = await s.cancel(ctx.community.id, drop)
    reservers = await s.reservations.reservers(row.id)
    tr = ctx.translator
    told = await ctx.outbox.notify(
        ctx.community.id,
        reservers,
        views.render(tr, lambda t: Reply(text=t("drop.notice.cancelled", name=row.name))),
        dedup_key=f"drop:{row.id}:cancelled",
        force=True,
    )
    if row.opened_at is not None:
        await ctx.outbox.announce(
            ctx.community.id,
            views.render(tr, lambda t: Reply(text=t("drop.notice.cancelled", name=row.name))),
            dedup_key=f"drop:{row.id}:cancelled",
        )
    return Reply(text=ctx.t("drop.cancelled", name=row.name, told=told), ephemeral=True)


async def fcodes(
    ctx: Context, drop: int, count: int | None = None, member: str | None = None
) -> Reply:
    s = svc(ctx)
    row = await s.get(ctx.community.id, drop)
    if member and count is not None:
        raise UserError("drop.error.fcodes_count_and_member")
    if member:
        holder = await ctx.identity.find_by_name(ctx.community.id, member)
        if holder is None:
            raise UserError("drop.error.member_unknown", name=member)
        issued = await s.issue(ctx.community.id, row.id, [holder], ctx.member.account_id)
        code = issued[0][1]
        sent = await ctx.outbox.notify(
            ctx.community.id,
            [holder],
            views.render(
                ctx.translator,
                lambda t: Reply(text=t("drop.notice.fcode", name=row.name, code=code)),
            ),
            dedup_key=f"fcode:{code}",
            force=True,
        )
        key = "drop.fcodes.given" if sent else "drop.fcodes.given_before"
        return Reply(text=ctx.t(key, name=member, drop=row.name), ephemeral=True)
    n = count or 1
    if not 1 <= n <= MAX_CODES:
        raise UserError("drop.error.fcodes_count", max=MAX_CODES)
    issued = await s.issue(ctx.community.id, row.id, [None] * n, ctx.member.account_id)
    return Reply(
        title=ctx.t("drop.fcodes.title", name=row.name, count=n),
        text="\n".join(code for _, code in issued),
        footer=ctx.t("drop.fcodes.footer"),
        ephemeral=True,
    )


async def export(ctx: Context, drop: int) -> Reply:
    s = svc(ctx)
    row = await s.get(ctx.community.id, drop)
    entries = await s.wins.export(row.id)
    names = await ctx.identity.display_names([e.account_id for e in entries])
    header = ("slots", "account_id", "name", "units", "code", "source", "won_at", "confirm_by",
              "confirmed_at")  # fmt: skip
    rows = [
        (
            " ".join(str(x) for x in e.slots),
            e.account_id,
            names.get(e.account_id, ""),
            e.units,
            e.code,
            e.source,
            e.won_at.isoformat(),
            e.confirm_by.isoformat(),
            e.confirmed_at.isoformat() if e.confirmed_at else "",
        )
        for e in entries
    ]
    return Reply(
        text=ctx.t("drop.export.text", name=row.name, count=len(entries)),
        file=csv_bytes(header, rows),
        file_name=f"drop-{row.id}-winners.csv",
        ephemeral=True,
    )


async def stats(ctx: Context, drop: int) -> Reply:
    s = svc(ctx)
    await s.claims.flush()  # presses answered from memory are counted a moment later
    row = await s.get(ctx.community.id, drop)
    c = await s.counts(row.id)
    t = ctx.t

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.1f}%" if b else "—"

    fields = [
        Field(t("drop.stats.reservations"), str(c.reservations), inline=True),
        Field(t("drop.stats.attempts"), str(row.attempts), inline=True),
        Field(t("drop.stats.winners"), f"{c.winners} ({c.taken}/{row.quota})", inline=True),
        Field(t("drop.stats.conversion"), pct(c.winners, c.reservations), inline=True),
        Field(
            t("drop.stats.confirmed"), f"{c.confirmed} ({pct(c.confirmed, c.winners)})", inline=True
        ),
        Field(t("drop.stats.waiting"), str(c.waiting), inline=True),
    ]
    times = await s.wins.claim_timing(row.id, (WinSource.FLASH, WinSource.LOTTERY))
    if times and row.started_at is not None:
        offsets = [(at - row.drop_at).total_seconds() for at in times]
        fields.append(
            Field(t("drop.stats.median_claim"), views.duration(statistics.median(offsets)))
        )
    if row.sold_out_at is not None:
        took = (row.sold_out_at - row.drop_at).total_seconds()
        fields.append(Field(t("drop.stats.sold_out"), views.duration(took)))
    return Reply(
        title=t("drop.stats.title", id=row.id, name=row.name), fields=fields, ephemeral=True
    )


def _create_params(required: bool) -> tuple[Param, ...]:
    """The drop's parameters, required for /drop create, optional for /drop edit."""
    return (
        Param("name", ParamType.TEXT, "param.drop.name", required=required, min=1, max=80),
        Param("quota", ParamType.INT, "param.drop.quota", required=required, min=1),
        Param(
            "drop" if required else "when",
            ParamType.DATETIME,
            "param.drop.drop_at",
            required=required,
        ),
        Param(
            "mode",
            ParamType.CHOICE,
            "param.drop.mode",
            required=False,
            choices=tuple(DropMode),
            default=DropMode.FLASH if required else None,
        ),
        Param("opens", ParamType.DATETIME, "param.drop.opens", required=False, keyword=True),
        Param("closes", ParamType.DATETIME, "param.drop.closes", required=False, keyword=True),
        Param("confirm", ParamType.DURATION, "param.drop.confirm", required=False, keyword=True),
        Param(
            "limit",
            ParamType.INT,
            "param.drop.limit",
            required=False,
            keyword=True,
            min=1,
            max=10,
            default=1 if required else None,
        ),
        Param(
            "waitlist", ParamType.INT, "param.drop.waitlist", required=False, min=0, keyword=True
        ),
        Param("roles", ParamType.TEXT, "param.drop.roles", required=False, max=300, keyword=True),
        Param(
            "min_days",
            ParamType.INT,
            "param.drop.min_days",
            required=False,
            keyword=True,
            min=0,
            max=3650,
            default=0 if required else None,
        ),
        Param(
            "min_score",
            ParamType.INT,
            "param.drop.min_score",
            required=False,
            keyword=True,
            min=0,
            default=0 if required else None,
        ),
        Param("tiers", ParamType.TEXT, "param.drop.tiers", required=False, max=300, keyword=True),
        Param(
            "description",
            ParamType.TEXT,
            "param.drop.description",
            required=False,
            max=2000,
            rest=True,
        ),
    )


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(CommandSpec("drop create", "help.drop.create", create, _create_params(True), role=Role.OWNER))
    c(
        CommandSpec(
            "drop edit", "help.drop.edit", edit, (DROP, *_create_params(False)), role=Role.OWNER
        )
    )
    c(CommandSpec("drop cancel", "help.drop.cancel", cancel, (DROP,), role=Role.OWNER))
    c(
        CommandSpec(
            "drop fcodes",
            "help.drop.fcodes",
            fcodes,
            (
                DROP,
                Param("count", ParamType.INT, "param.drop.fcode_count", required=False, min=1),
                Param("member", ParamType.MEMBER, "param.drop.member", required=False),
            ),
            role=Role.OWNER,
        )
    )
    c(CommandSpec("drop export", "help.drop.export", export, (DROP,), role=Role.OWNER))
    c(CommandSpec("drop stats", "help.drop.stats", stats, (DROP,), role=Role.OWNER))
