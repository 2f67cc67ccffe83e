"""Admin commands of the weekly loop: record a release, open / close / preview / export the
four-grid report by hand, the daily digest."""

from __future__ import annotations

import datetime as dt
import re

from bot.core.clock import utc_offset
from bot.core.commands import CommandSpec, Param, ParamType, Role, check_time
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.weekly import config, release_views
from cogs.weekly.commands import RELEASE_REF, flows, weekly
from cogs.weekly.digest import DigestWork
from cogs.weekly.export import results_csv
from cogs.weekly.flows import next_fire
from cogs.weekly.fourgrid import ReportStatus
from cogs.weekly.results_views import results_reply
from storage.weekly.reports import ReportRow

_SEPARATORS = re.compile(r"[;；\n]+")
_SUGGESTION = re.compile(r"^#?(\d{1,9})$")
MAX_TITLE = 200


def parse_items(text: str) -> list[int | str]:
    """`#12; #15; Faster camera start` → [12, 15, "Faster camera start"]."""
    out: list[int | str] = []
    for part in _SEPARATORS.split(text):
        piece = part.strip()
        if not piece:
            continue
        match = _SUGGESTION.match(piece)
        if match:
            out.append(int(match.group(1)))
        elif len(piece) > MAX_TITLE:
            raise UserError("release.item_too_long", max=MAX_TITLE, length=len(piece))
        else:
            out.append(piece)
    return out


async def release_new(ctx: Context, version: str, items: str, date: str | None = None) -> Reply:
    tz = await ctx.timezone()
    released_on = _date(date) if date else ctx.now().astimezone(tz).date()
    release = await weekly(ctx).record_release(
        ctx.community.id, version, released_on, parse_items(items), ctx.member.account_id
    )
    shipped = await flows(ctx).finish_release(release, ctx.member.account_id)
    count = len(await weekly(ctx).items(release.id))
    return Reply(
        text=ctx.t(
            "release.recorded",
            version=release.version,
            count=count,
            marked=shipped.marked if shipped else 0,
            told=shipped.told if shipped else 0,
        ),
        ephemeral=True,
    )


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError("release.bad_date", value=text) from None
    check_time("date", dt.datetime.combine(day, dt.time(12), dt.UTC))
    return day


async def report_open(ctx: Context, release: str | None = None) -> Reply:
    row = await weekly(ctx).release(ctx.community.id, release)
    report = await flows(ctx).open_report(row, ctx.member.account_id)
    tz = await ctx.timezone()
    return Reply(
        text=ctx.t(
            "fourgrid.opened_by_hand",
            version=row.version,
            when=release_views.when(ctx.t, report.closes_at, tz),
        ),
        ephemeral=True,
    )


async def report_close(ctx: Context) -> Reply:
    report = await weekly(ctx).current(ctx.community.id)
    if not await flows(ctx).close(report):
        raise UserError("fourgrid.none_open")
    return Reply(text=ctx.t("fourgrid.closed_by_hand"), ephemeral=True)


async def report_preview(ctx: Context) -> Reply:
    """The open report's totals so far, or how the next report will look."""
    svc = weekly(ctx)
    cid = ctx.community.id
    tz = await ctx.timezone()
    cfg = await config.load(ctx.community_settings, cid)
    current = await svc.reports.current(cid)
    if current is not None:
        reply = results_reply(
            ctx.t, ctx.locale, await svc.results(current, cfg), cfg, tz, interim=True
        )
        reply.ephemeral = True
        return reply
    release = await svc.release(cid)
    if await svc.reports.for_release(release.id) is not None:
        raise UserError("fourgrid.had_report", version=release.version)
    now = ctx.now()
    draft = ReportRow(
        0,
        cid,
        release.id,
        "",
        ReportStatus.OPEN,
        cfg.labels,
        None,
        now,
        now + cfg.duration,
        None,
        None,
        None,
    )
    reply = release_views.report_opened(
        ctx.t, release, draft, await svc.items(release.id), tz, preview=True
    )
    upcoming = next_fire(cfg.day, cfg.hour, cfg.minute, tz, now) if cfg.auto else None
    reply.footer = (
        ctx.t("fourgrid.preview.when", when=release_views.when(ctx.t, upcoming, tz))
        if upcoming
        else ctx.t("fourgrid.preview.manual")
    )
    reply.ephemeral = True
    return reply


async def report_export(ctx: Context, release: str | None = None) -> Reply:
    svc = weekly(ctx)
    report = await svc.report_for(ctx.community.id, release)
    results = await svc.results(report, await config.load(ctx.community_settings, ctx.community.id))
    name = f"fourgrid-{results.release.version}.csv".replace("/", "-").replace(" ", "-")
    return Reply(
        text=ctx.t("fourgrid.exported", version=results.release.version, count=results.turnout),
        file=results_csv(results),
        file_name=name,
        ephemeral=True,
    )


async def digest(ctx: Context, enabled: bool | None = None) -> Reply:
    """`/digest` shows today's digest now; `/digest on|off` subscribes to the daily one."""
    work = ctx.service(DigestWork)
    cid = ctx.community.id
    if enabled is not None:
        await weekly(ctx).digest_subscribers.subscribe(
            cid, ctx.member.account_id, enabled, ctx.now()
        )
        cfg = await config.load(ctx.community_settings, cid)
        key = "digest.subscribed" if enabled else "digest.unsubscribed"
        time = f"{cfg.digest_hour:02d}:{cfg.digest_minute:02d}"
        offset = utc_offset(ctx.now().astimezone(await ctx.timezone()))
        return Reply(text=ctx.t(key, time=time, tz=offset), ephemeral=True)
    tz = await ctx.timezone()
    built = await work.build(cid, ctx.now(), ctx.locale)
    reply = work.render(built, ctx.locale, ctx.now().astimezone(tz).date().isoformat())
    reply.ephemeral = True
    return reply


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "release new",
            "help.release_new",
            release_new,
            (
                Param("version", ParamType.TEXT, "param.release_version", min=1, max=64),
                Param("items", ParamType.TEXT, "param.release_items", min=1, max=2000, rest=True),
                Param("date", ParamType.TEXT, "param.release_date", required=False, max=10),
            ),
            role=Role.ADMIN,
            form=True,
        )
    )
    c(CommandSpec("report open", "help.report_open", report_open, (RELEASE_REF,), role=Role.ADMIN))
    c(CommandSpec("report close", "help.report_close", report_close, role=Role.ADMIN))
    c(CommandSpec("report preview", "help.report_preview", report_preview, role=Role.ADMIN))
    c(
        CommandSpec(
            "report export", "help.report_export", report_export, (RELEASE_REF,), role=Role.ADMIN
        )
    )
    c(
        CommandSpec(
            "digest",
            "help.digest",
            digest,
            (Param("enabled", ParamType.BOOL, "param.digest_enabled", required=False),),
            role=Role.ADMIN,
        )
    )
