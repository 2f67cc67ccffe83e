"""Fixing mistakes in the weekly loop: edit or delete a release, reopen a closed report.

- A release's version can be renamed at any time; its items can be replaced only until its
  four-grid report opens (ballots are cast on items). Suggestions that leave the items go back
  to the status they had before the release marked them shipped; suggestions that join it are
  marked shipped and their voters told, as for a new release.
- A release is deleted only while it has no report: it leaves /releases and every lookup, and
  its shipped suggestions go back as above. The changelog already posted stays in the channel.
- A closed report can be reopened (if no other report is open): it takes ballots again until a
  new closing time, and closing it again posts its results anew, marked as corrected.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.commands import CommandSpec, Param, ParamType, Role
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.weekly import config, release_views
from cogs.weekly.admin import parse_items
from cogs.weekly.commands import flows, weekly
from cogs.weekly.fourgrid import ReportStatus
from storage.weekly.releases import VersionTaken

RELEASE = Param("release", ParamType.TEXT, "param.release_ref", max=64)


async def release_edit(
    ctx: Context, release: str, version: str | None = None, items: str | None = None
) -> Reply:
    svc, cid, me = weekly(ctx), ctx.community.id, ctx.member.account_id
    row = await svc.release(cid, release)
    if version is None and items is None:
        raise UserError("release.edit.nothing")
    new_version = version.strip() if version is not None else None
    if new_version == row.version:
        new_version = None
    if new_version is not None:
        other = await svc.releases.by_version(cid, new_version)
        if other is not None and other.id != row.id:
            raise UserError("release.version_taken", version=new_version)
    old_items = await svc.items(row.id)
    new_items = None
    if items is not None:
        if await svc.reports.for_release(row.id) is not None:
            raise UserError("release.edit.has_report", version=row.version)
        new_items = await svc.resolve_items(cid, parse_items(items))
    if new_version is None and (
        new_items is None or new_items == [(i.suggestion_id, i.title) for i in old_items]
    ):
        raise UserError("release.edit.same", version=row.version)
    try:
        await svc.releases.change(row.id, new_version, new_items)
    except VersionTaken:
        raise UserError("release.version_taken", version=new_version) from None
    shipped_ids = [i.suggestion_id for i in old_items if i.suggestion_id is not None]
    loop = svc.suggestions()
    if new_version is not None and loop is not None:
        await loop.rename_shipped(cid, shipped_ids, row.version, new_version)
    edited = await svc.release(cid, f"#{row.id}")
    back = added = 0
    if new_items is not None:
        kept = {sid for sid, _ in new_items if sid is not None}
        back = await flows(ctx).unship(edited, [s for s in shipped_ids if s not in kept], me)
        joined = [sid for sid, _ in new_items if sid is not None and sid not in shipped_ids]
        added = (await flows(ctx).ship(edited, joined, me)).marked
    reply = release_views.changelog(ctx.t, edited, await svc.items(row.id), None)
    reply.title = ctx.t("release.edited", version=edited.version) + "\n" + reply.title
    reply.footer = ctx.t("release.edit.shipped", marked=added, back=back)
    reply.ephemeral = True
    return reply


async def release_delete(ctx: Context, release: str) -> Reply:
    svc, cid = weekly(ctx), ctx.community.id
    row = await svc.release(cid, release)
    if await svc.reports.for_release(row.id) is not None:
        raise UserError("release.delete.has_report", version=row.version)
    items = await svc.items(row.id)
    await svc.releases.delete(row.id, ctx.now())
    back = await flows(ctx).unship(row, [i.suggestion_id for i in items], ctx.member.account_id)
    return Reply(text=ctx.t("release.deleted", version=row.version, back=back), ephemeral=True)


async def report_reopen(
    ctx: Context, release: str | None = None, duration: timedelta | None = None
) -> Reply:
    svc, cid = weekly(ctx), ctx.community.id
    report = await svc.report_for(cid, release)
    row = await svc.releases.get(cid, report.release_id)
    if row is None:
        raise UserError("fourgrid.unknown")
    if report.status != ReportStatus.CLOSED:
        raise UserError("fourgrid.already_open")
    current = await svc.reports.current(cid)
    if current is not None:
        other = await svc.releases.get(cid, current.release_id)
        raise UserError("fourgrid.other_open", version=other.version if other else "?")
    cfg = await config.load(ctx.community_settings, cid)
    length = (
        cfg.duration
        if duration is None
        else timedelta(seconds=config.check_duration(duration.total_seconds()))
    )
    reopened = await flows(ctx).reopen(report, ctx.now() + length)
    tz = await ctx.timezone()
    return Reply(
        text=ctx.t(
            "fourgrid.reopened_by_hand",
            version=row.version,
            when=release_views.when(ctx.t, reopened.closes_at, tz),
        ),
        ephemeral=True,
    )


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(
        CommandSpec(
            "release edit",
            "help.release_edit",
            release_edit,
            (
                RELEASE,
                Param(
                    "version",
                    ParamType.TEXT,
                    "param.release_version",
                    required=False,
                    min=1,
                    max=64,
                    keyword=True,
                ),
                Param(
                    "items",
                    ParamType.TEXT,
                    "param.release_items",
                    required=False,
                    min=1,
                    max=2000,
                    rest=True,
                ),
            ),
            role=Role.ADMIN,
        )
    )
    c(
        CommandSpec(
            "release delete", "help.release_delete", release_delete, (RELEASE,), role=Role.ADMIN
        )
    )
    c(
        CommandSpec(
            "report reopen",
            "help.report_reopen",
            report_reopen,
            (
                Param("release", ParamType.TEXT, "param.release_ref", required=False, max=64),
                Param(
                    "duration",
                    ParamType.DURATION,
                    "param.reopen_duration",
                    required=False,
                    keyword=True,
                ),
            ),
            role=Role.ADMIN,
        )
    )
