"""Fan commands and buttons of drops: reserve, claim, F-codes, confirm, browse."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from bot.core.actions import ActionSpec, int_arg
from bot.core.chinese import simplified
from bot.core.commands import CommandSpec, Param, ParamType
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Field, Reply
from cogs.drops import lottery, views
from cogs.drops.modes import DropMode, WinSource
from cogs.drops.phases import phase
from cogs.drops.service import DropService, Recipient
from storage.drops.drops import DropRow
from storage.drops.wins import WinRow

# A reply to a drop's message that reserves (in either script of Chinese).
RESERVE_WORDS = re.compile(
    r"^\s*(\+\s*1|reserve|me|预约|我要|我也要)[\s!！.。~～]*$", re.IGNORECASE
)


RECENT = timedelta(days=7)  # /drop list shows drops that dropped this recently


def svc(ctx: Context) -> DropService:
    return ctx.service(DropService)


def roles_of(ctx: Context) -> Sequence[str] | None:
    """The member's platform roles (Discord role names); None where the platform has none."""
    roles = (ctx.extras or {}).get("roles")
    return list(roles) if roles is not None else None


async def reserve(ctx: Context, drop: int, units: int | None = None) -> Reply:
    row, created, reserved = await svc(ctx).reserve(
        ctx.community.id, drop, ctx.member.account_id, units, roles_of(ctx)
    )
    tz = await ctx.timezone()
    key = "drop.reserved" if created else "drop.reserved_again"
    return Reply(
        text=ctx.t(key, name=row.name, units=reserved, at=views.when(row.drop_at, tz)),
        ephemeral=True,
    )


async def unreserve(ctx: Context, drop: int) -> Reply:
    row = await svc(ctx).unreserve(ctx.community.id, drop, ctx.member.account_id)
    return Reply(text=ctx.t("drop.unreserved", name=row.name), ephemeral=True)


async def claim(ctx: Context, drop: int) -> Reply:
    m = ctx.member
    out = await svc(ctx).claim_for(
        ctx.community.id,
        drop,
        m.account_id,
        roles_of(ctx),
        recipient=Recipient(m.platform, m.platform_user_id, ctx.locale),
        receipt=(ctx.receipt.platform, ctx.receipt.event_id) if ctx.receipt else None,
    )
    if out.receipt_recorded:
        ctx.receipt_recorded = True
    tz = await ctx.timezone()
    return views.claim_answer(ctx.t, out.drop, out.result, tz, sent=out.sent)


async def fcode(ctx: Context, code: str) -> Reply:
    out = await svc(ctx).redeem(ctx.community.id, ctx.member.account_id, code)
    tz = await ctx.timezone()
    key = "drop.fcode.again" if out.again else "drop.fcode.redeemed"
    return Reply(
        text=ctx.t(
            key, name=out.drop.name, code=out.win.code, deadline=views.when(out.win.confirm_by, tz)
        ),
        buttons=[views.confirm_button(ctx.t, out.drop)],
        ephemeral=True,
    )


async def confirm(ctx: Context, drop: int) -> Reply:
    s = svc(ctx)
    row = await s.get(ctx.community.id, drop)
    win = await s.confirm(ctx.community.id, drop, ctx.member.account_id)
    return Reply(
        text=ctx.t("drop.confirmed", name=row.name, code=win.code, units=win.units),
        ephemeral=True,
    )


async def reminder(ctx: Context, drop: int, state: str) -> Reply:
    """Turn the private reminder before drop time on or off, for one reserved drop."""
    s = svc(ctx)
    row = await s.get(ctx.community.id, drop)
    if not await s.reservations.set_remind(row.id, ctx.member.account_id, state == "on"):
        raise UserError("drop.error.not_reserved", name=row.name)
    key = "drop.reminder.on" if state == "on" else "drop.reminder.off"
    return Reply(text=ctx.t(key, name=row.name), ephemeral=True)


async def show(ctx: Context, drop: int) -> Reply:
    row = await svc(ctx).get(ctx.community.id, drop)
    counts = await svc(ctx).counts(row.id)
    tz = await ctx.timezone()
    return views.card(ctx.t, row, counts, tz, ctx.now())


async def listing(ctx: Context) -> Reply:
    now = ctx.now()
    rows = await svc(ctx).drops.of_community(ctx.community.id, since=now - RECENT)
    if not rows:
        return Reply(text=ctx.t("drop.list.empty"), ephemeral=True)
    tz = await ctx.timezone()
    lines = []
    for r in rows:
        left = max(0, r.quota - (await svc(ctx).counts(r.id)).taken)
        lines.append(
            ctx.t(
                "drop.list.line" if left else "drop.list.line_sold_out",
                id=r.id,
                name=r.name,
                phase=ctx.t(f"drop.phase.{phase(r, now)}"),
                at=views.when(r.drop_at, tz),
                quota=left,
            )
        )
    return Reply(title=ctx.t("drop.list.title"), text="\n".join(lines), ephemeral=True)


async def mine(ctx: Context) -> Reply:
    s = svc(ctx)
    rows = await s.reservations.mine(ctx.community.id, ctx.member.account_id)
    if not rows:
        return Reply(text=ctx.t("drop.mine.empty"), ephemeral=True)
    tz = await ctx.timezone()
    out = []
    for drop, units in rows:
        win = await s.wins.win_of(drop.id, ctx.member.account_id)
        if win is not None:
            state = ctx.t(
                "drop.mine.won" if win.confirmed_at is None else "drop.mine.confirmed",
                code=win.code,
                units=win.units,
                deadline=views.when(win.confirm_by, tz),
            )
        else:
            place = await s.wins.waiting_position(drop.id, ctx.member.account_id)
            if place:
                state = ctx.t("drop.mine.waiting", position=place)
            elif await s.wins.lapsed(drop.id, ctx.member.account_id):
                state = ctx.t("drop.mine.lapsed")
            elif drop.cancelled_at is not None:
                state = ctx.t("drop.mine.cancelled")
            elif drop.mode == DropMode.LOTTERY and drop.drawn_at is not None:
                state = ctx.t("drop.mine.not_drawn")
            elif drop.sold_out_at is not None:
                state = ctx.t("drop.mine.sold_out")
            else:
                state = ctx.t("drop.mine.reserved", units=units)
        handle = entrant_handle(drop, ctx.member.account_id, win)
        if handle:
            state += "\n" + ctx.t("drop.mine.handle", handle=handle)
        out.append(Field(f"#{drop.id} {drop.name}", state))
    return Reply(title=ctx.t("drop.mine.title"), fields=out, ephemeral=True)


def entrant_handle(drop: DropRow, account_id: int, win: WinRow | None) -> str | None:
    """A reserver's handle in a drawn lottery's entrant list (F-code holders were not drawn)."""
    seed = lottery.revealed_seed(drop)
    if drop.mode != DropMode.LOTTERY or seed is None:
        return None
    if win is not None and win.source == WinSource.FCODE:
        return None
    return lottery.handle(seed, account_id)


async def draw(ctx: Context, drop: int) -> Reply:
    row = await svc(ctx).get(ctx.community.id, drop)
    if row.mode != DropMode.LOTTERY:
        raise UserError("drop.error.not_lottery", name=row.name)
    tz = await ctx.timezone()
    if row.drawn_at is None:
        return Reply(
            text=ctx.t("drop.draw.pending", name=row.name, commitment=row.commitment),
            ephemeral=True,
        )
    counts = await svc(ctx).counts(row.id)
    return views.draw_result(ctx.t, row, counts.winners, tz)


async def entrants(ctx: Context, drop: int) -> Reply:
    """The entrant list of a draw, as the file `fanloop verify-draw` reads."""
    s = svc(ctx)
    row = await s.get(ctx.community.id, drop)
    if row.mode != DropMode.LOTTERY:
        raise UserError("drop.error.not_lottery", name=row.name)
    if row.drawn_at is None:
        raise UserError("drop.error.not_drawn", name=row.name)
    listed = await s.reservations.draw_entrants(row.id, excluded_source=WinSource.FCODE)
    data = lottery.entrant_file(row.seed, listed).encode("ascii")
    text = ctx.t("drop.entrants.text", name=row.name, count=len(listed), hash=row.entrants_hash)
    me = ctx.member.account_id
    if any(a == me for a, _ in listed):
        text += "\n" + ctx.t("drop.entrants.you", handle=lottery.handle(row.seed, me))
    return Reply(
        text=text,
        file=data,
        file_name=f"drop-{row.id}-entrants.csv",
        ephemeral=True,
    )


# -- buttons and replies -------------------------------------------------------------------------


async def reserve_button(ctx: Context, args: list[str]) -> Reply:
    return await reserve(ctx, int_arg(args))


async def claim_button(ctx: Context, args: list[str]) -> Reply:
    return await claim(ctx, int_arg(args))


async def confirm_button(ctx: Context, args: list[str]) -> Reply:
    return await confirm(ctx, int_arg(args))


async def on_reply(ctx: Context, args: list[str], text: str) -> Reply | None:
    """ "+1", "reserve" or "预约" in reply to a drop's message reserves."""
    if not RESERVE_WORDS.match(simplified(text)):  # 預約 as 预约
        return None
    return await reserve(ctx, int_arg(args))


DROP = Param("drop", ParamType.INT, "param.drop.id", min=1)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "reserve",
            "help.drop.reserve",
            reserve,
            (DROP, Param("units", ParamType.INT, "param.drop.units", required=False, min=1)),
            rate=(10, 60.0),
        )
    )
    c(CommandSpec("unreserve", "help.drop.unreserve", unreserve, (DROP,), rate=(10, 60.0)))
    c(CommandSpec("claim", "help.drop.claim", claim, (DROP,), rate=(30, 60.0)))
    c(
        CommandSpec(
            "fcode",
            "help.drop.fcode",
            fcode,
            (Param("code", ParamType.TEXT, "param.drop.fcode", min=4, max=40),),
            rate=(5, 60.0),
        )
    )
    c(CommandSpec("drop list", "help.drop.list", listing))
    c(CommandSpec("drop show", "help.drop.show", show, (DROP,)))
    c(CommandSpec("drop mine", "help.drop.mine", mine))
    c(CommandSpec("drop confirm", "help.drop.confirm", confirm, (DROP,)))
    c(
        CommandSpec(
            "drop reminder",
            "help.drop.reminder",
            reminder,
            (
                DROP,
                Param(
                    "state", ParamType.CHOICE, "param.drop.reminder_state", choices=("on", "off")
                ),
            ),
            rate=(10, 60.0),
        )
    )
    c(CommandSpec("drop draw", "help.drop.draw", draw, (DROP,)))
    c(CommandSpec("drop entrants", "help.drop.entrants", entrants, (DROP,), rate=(5, 60.0)))
    feature.actions.add(ActionSpec("dr", reserve_button, rate=(10, 60.0)))
    feature.actions.add(ActionSpec("dc", claim_button, rate=(30, 60.0)))
    feature.actions.add(ActionSpec("dk", confirm_button, rate=(10, 60.0)))
    feature.actions.add_reply_hook("dp", on_reply)
