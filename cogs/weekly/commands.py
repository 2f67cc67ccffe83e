"""Fan commands and buttons of the weekly loop: past releases, filling in the four-grid report,
its results."""

from __future__ import annotations

import re

from bot.core.actions import ActionSpec, int_args
from bot.core.commands import CommandSpec, Param, ParamType, parse_int
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.feature import FeatureSetup
from bot.core.reply import Reply
from cogs.weekly import config, release_views
from cogs.weekly.flows import WeeklyFlows
from cogs.weekly.fourgrid import Grid, ReportStatus, accepts_ballots
from cogs.weekly.results_views import results_reply
from cogs.weekly.service import WeeklyService
from storage.weekly.reports import ReportRow

GRID_WORDS = {
    "love": 0, "love_it": 0, "loved": 0, "爱了": 0, "喜欢": 0,
    "fine": 1, "ok": 1, "okay": 1, "还行": 1, "一般": 1,
    "bad": 2, "not_good_enough": 2, "not_good": 2, "meh": 2, "不够好": 2, "不好": 2,
    "untried": 3, "not_tried": 3, "haven't_tried": 3, "havent_tried": 3, "没用过": 3, "没试过": 3,
}  # fmt: skip
_SYMBOLS = re.compile(r"[^\w']+")


def weekly(ctx: Context) -> WeeklyService:
    return ctx.service(WeeklyService)


def flows(ctx: Context) -> WeeklyFlows:
    return ctx.service(WeeklyFlows)


def parse_grid(text: str, labels: list[str]) -> int:
    """A grid named by number (1–4), by word (love, fine, bad, untried, 爱了…) or by label."""
    raw = text.strip()
    number = parse_int(raw)
    if number is not None and 1 <= number <= len(Grid):
        return number - 1

    def norm(value: str) -> str:
        return _SYMBOLS.sub("_", value.casefold()).strip("_")

    word = norm(raw)
    for grid, label in enumerate(labels):  # the community's own labels first
        if norm(label) == word:
            return grid
    if word in GRID_WORDS:
        return GRID_WORDS[word]
    raise UserError("fourgrid.bad_grid_name", value=text, choices=" | ".join(labels))


# -- releases ----------------------------------------------------------------------------------


async def releases_list(ctx: Context) -> Reply:
    svc = weekly(ctx)
    rows = await svc.releases.recent(ctx.community.id, 10)
    if not rows:
        return Reply(text=ctx.t("release.none"), ephemeral=True)
    lines = []
    for release in rows:
        items = await svc.items(release.id)
        report = await svc.reports.for_release(release.id)
        award = next((i.title for i in items if report and i.id == report.award_item_id), None)
        status = release_views.release_status(ctx.t, report, award)
        lines.append(release_views.release_line(ctx.t, release, len(items), status))
    return Reply(title=ctx.t("release.list.title"), text="\n".join(lines), ephemeral=True)


async def release_show(ctx: Context, release: str | None = None) -> Reply:
    svc = weekly(ctx)
    row = await svc.release(ctx.community.id, release)
    items = await svc.items(row.id)
    report = await svc.reports.for_release(row.id)
    award = next((i.title for i in items if report and i.id == report.award_item_id), None)
    reply = release_views.changelog(ctx.t, row, items, None)
    reply.footer = release_views.release_status(ctx.t, report, award)
    reply.ephemeral = True
    return reply


# -- filling in the report ---------------------------------------------------------------------


async def _page(ctx: Context, report: ReportRow, page: int) -> Reply:
    svc = weekly(ctx)
    release = await svc.releases.get(ctx.community.id, report.release_id)
    assert release is not None
    items = await svc.items(release.id)
    mine, picked = await svc.mine(report.id, ctx.member.account_id)
    tz = await ctx.timezone()
    if not accepts_ballots(report, ctx.now()):
        raise UserError("fourgrid.closed")
    if 0 <= page < len(items):
        return release_views.ballot_page(ctx.t, release, report, items, page, mine, tz)
    candidates = []
    suggestions = svc.suggestions()
    if suggestions is not None:
        candidates = await suggestions.by_votes(ctx.community.id, limit=25)
    return release_views.anticipation_page(
        ctx.t, release, report, len(items), candidates, picked, len(mine)
    )


async def report_fill(ctx: Context) -> Reply:
    svc = weekly(ctx)
    report = await svc.current(ctx.community.id)
    items = await svc.items(report.release_id)
    mine, _ = await svc.mine(report.id, ctx.member.account_id)
    first = next((n for n, item in enumerate(items) if item.id not in mine), len(items))
    return await _page(ctx, report, first)


async def page_button(ctx: Context, args: list[str]) -> Reply:
    report_id, page = int_args(args, 2)
    return await _page(ctx, await weekly(ctx).report(ctx.community.id, report_id), page)


async def grade_button(ctx: Context, args: list[str]) -> Reply:
    report_id, item_id, grid = int_args(args, 3)
    svc = weekly(ctx)
    await svc.cast(
        ctx.community.id, report_id, item_id, ctx.member.account_id, grid, receipt=ctx.receipt
    )
    ctx.receipt_recorded = ctx.receipt is not None  # committed with the ballot
    report = await svc.report(ctx.community.id, report_id)
    items = await svc.items(report.release_id)
    index = next((n for n, item in enumerate(items) if item.id == item_id), len(items) - 1)
    return await _page(ctx, report, index + 1)


async def report_vote(ctx: Context, item: int, grid: str) -> Reply:
    """Text platforms: `/report vote 2 love`."""
    svc = weekly(ctx)
    report = await svc.current(ctx.community.id)
    items = await svc.items(report.release_id)
    if not 1 <= item <= len(items):
        raise UserError("fourgrid.bad_item_number", max=len(items))
    labels = release_views.grid_labels(ctx.t, report.labels)
    chosen = parse_grid(grid, labels)
    target = items[item - 1]
    await svc.cast(
        ctx.community.id, report.id, target.id, ctx.member.account_id, chosen, receipt=ctx.receipt
    )
    ctx.receipt_recorded = ctx.receipt is not None  # committed with the ballot
    return Reply(
        text=ctx.t("fourgrid.voted", title=target.title, grid=labels[chosen]), ephemeral=True
    )


async def pick_button(ctx: Context, args: list[str]) -> Reply:
    report_id, sid = int_args(args, 2)
    svc = weekly(ctx)
    title = await svc.anticipate(ctx.community.id, report_id, ctx.member.account_id, sid)
    report = await svc.report(ctx.community.id, report_id)
    page = await _page(ctx, report, len(await svc.items(report.release_id)))
    page.text = ctx.t("fourgrid.picked", id=sid, title=title) + "\n" + page.text
    return page


async def done_button(ctx: Context, args: list[str]) -> Reply:
    (report_id,) = int_args(args, 1)
    svc = weekly(ctx)
    report = await svc.report(ctx.community.id, report_id)
    items = await svc.items(report.release_id)
    mine, picked = await svc.mine(report.id, ctx.member.account_id)
    tz = await ctx.timezone()
    text = ctx.t("fourgrid.done", done=len(mine), total=len(items))
    if len(mine) < len(items):
        text += "\n" + ctx.t("fourgrid.done_missing", count=len(items) - len(mine))
    if picked is not None:
        text += "\n" + ctx.t("fourgrid.done_pick", id=picked)
    return Reply(
        text=text,
        footer=ctx.t("fourgrid.done_footer", when=release_views.when(ctx.t, report.closes_at, tz)),
        ephemeral=True,
    )


# -- results -----------------------------------------------------------------------------------


async def report_results(ctx: Context, release: str | None = None) -> Reply:
    svc = weekly(ctx)
    report = await svc.report_for(ctx.community.id, release, closed=True)
    if report.status != ReportStatus.CLOSED:
        raise UserError("fourgrid.not_closed_yet")
    cfg = await config.load(ctx.community_settings, ctx.community.id)
    tz = await ctx.timezone()
    reply = results_reply(ctx.t, ctx.locale, await svc.results(report, cfg), cfg, tz)
    reply.ephemeral = True
    return reply


RELEASE_REF = Param("release", ParamType.TEXT, "param.release_ref", required=False, max=64)


def register(feature: FeatureSetup) -> None:
    c = feature.commands.add
    c(CommandSpec("releases", "help.releases", releases_list))
    c(CommandSpec("release show", "help.release_show", release_show, (RELEASE_REF,)))
    c(CommandSpec("report fill", "help.report_fill", report_fill))
    c(
        CommandSpec(
            "report vote",
            "help.report_vote",
            report_vote,
            (
                Param("item", ParamType.INT, "param.report_item", min=1, max=25),
                Param("grid", ParamType.TEXT, "param.report_grid", max=40, rest=True),
            ),
            rate=(60, 60.0),
        )
    )
    c(CommandSpec("report results", "help.report_results", report_results, (RELEASE_REF,)))
    feature.actions.add(ActionSpec("fg", grade_button, rate=(120, 60.0)))
    feature.actions.add(ActionSpec("fgp", page_button, rate=(120, 60.0)))
    feature.actions.add(ActionSpec("fga", pick_button, rate=(30, 60.0)))
    feature.actions.add(ActionSpec("fgd", done_button))
