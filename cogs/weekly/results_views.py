"""The four-grid results as a message: a table in text plus the chart. Only totals: individual
ballots are never shown."""

from __future__ import annotations

from collections import OrderedDict
from zoneinfo import ZoneInfo

from bot.core.reply import Reply
from cogs.weekly.charts import ChartBar, ChartText, results_chart
from cogs.weekly.config import WeeklyConfig
from cogs.weekly.fourgrid import Grid, ReportStatus
from cogs.weekly.ranking import ItemResult
from cogs.weekly.release_views import Tr, grid_labels, when
from cogs.weekly.service import Results

_CHARTS: OrderedDict[tuple[int, str], bytes] = OrderedDict()
_CHARTS_KEPT = 32


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _turnout_line(t: Tr, res: Results) -> str:
    if len(res.trend) >= 2 and res.trend[-2][1]:
        before = res.trend[-2][1]
        change = (res.turnout - before) / before
        sign = "+" if change >= 0 else "−"
        return t(
            "fourgrid.results.turnout_change",
            count=res.turnout,
            change=f"{sign}{abs(change) * 100:.0f}%",
            before=before,
        )
    return t("fourgrid.results.turnout", count=res.turnout)


def _ranked_line(t: Tr, labels: list[str], n: int, r: ItemResult) -> str:
    if not r.tried:
        return t("fourgrid.results.untried_line", n=n, title=r.title, untried=labels[3])
    return t(
        "fourgrid.results.line",
        n=n,
        title=r.title,
        love_label=labels[Grid.LOVE],
        love=pct(r.love_share),
        score=pct(r.score),
        tried=r.tried,
    )


def results_text(t: Tr, res: Results, cfg: WeeklyConfig, *, interim: bool = False) -> list[str]:
    if not res.turnout:
        # Not a table of zeros and "nobody tried it": one clear line.
        return [t("fourgrid.results.no_ballots_yet" if interim else "fourgrid.results.no_ballots")]
    labels = grid_labels(t, res.report.labels)
    lines = [_turnout_line(t, res), "", t("fourgrid.results.loved")]
    lines += [_ranked_line(t, labels, n, r) for n, r in enumerate(res.ranking.ranked, 1)]
    if res.ranking.not_good_enough:
        lines += [
            "",
            t("fourgrid.results.not_good_enough", label=labels[Grid.BAD], threshold=cfg.threshold),
        ]
        lines += [
            t(
                "fourgrid.results.bad_line",
                title=r.title,
                label=labels[Grid.BAD],
                bad=pct(r.bad_share),
                tried=r.tried,
            )
            for r in res.ranking.not_good_enough
        ]
    if res.anticipated:
        lines += ["", t("fourgrid.results.anticipated")]
        lines += [
            t("fourgrid.results.pick_line", id=sid, title=title, picks=picks)
            for sid, title, picks in res.anticipated
        ]
    if not interim:
        lines.append("")
        award = res.ranking.award
        if award is not None:
            lines.append(t("fourgrid.results.award", title=award.title))
        else:
            lines.append(t("fourgrid.results.no_award", min=cfg.min_ballots))
    return lines


def chart_bars(res: Results) -> list[ChartBar]:
    """The chart's items: ranked and numbered as in `results_text`."""
    return [ChartBar(r.title, r.counts) for r in res.ranking.ranked]


def chart_png(t: Tr, locale: str, res: Results, tz: ZoneInfo) -> bytes:
    key = (res.report.id, locale)
    cacheable = res.report.status == ReportStatus.CLOSED
    if cacheable and key in _CHARTS:
        _CHARTS.move_to_end(key)
        return _CHARTS[key]
    labels = grid_labels(t, res.report.labels)
    moment = res.report.closed_at or res.report.closes_at
    image = results_chart(
        chart_bars(res),
        res.trend,
        ChartText(
            title=t("fourgrid.chart.title", version=res.release.version),
            subtitle=t("fourgrid.chart.subtitle", count=res.turnout, when=when(t, moment, tz)),
            grid_labels=labels,
            trend_title=t("fourgrid.chart.trend"),
            axis=t("fourgrid.chart.axis"),
        ),
    )
    if cacheable:
        _CHARTS[key] = image.png
        while len(_CHARTS) > _CHARTS_KEPT:
            _CHARTS.popitem(last=False)
    return image.png


def results_reply(
    t: Tr, locale: str, res: Results, cfg: WeeklyConfig, tz: ZoneInfo, *, interim: bool = False
) -> Reply:
    title_key = "fourgrid.results.interim_title" if interim else "fourgrid.results.title"
    return Reply(
        title=t(title_key, version=res.release.version),
        text="\n".join(results_text(t, res, cfg, interim=interim)),
        image=chart_png(t, locale, res, tz) if res.turnout else None,
        image_name=f"fourgrid-{res.release.version}.png".replace("/", "-").replace(" ", "-"),
        footer=t("fourgrid.results.footer"),
        web_path="" if interim else "/reports",
    )
