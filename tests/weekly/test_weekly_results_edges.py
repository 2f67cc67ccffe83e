"""The four-grid results as a new community meets them, through the console: the chart's bars
have the text's base (60 % in the text is 60 % in the bar), long titles that begin alike stay
apart and numbered, the popcorn winner is never also "not good enough", a report nobody filled
in says so, and two reports in one week are told apart ("2026-W47 #2")."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import CHANNEL, OutEvent
from cogs.weekly import config
from cogs.weekly.charts import ChartText, results_chart
from cogs.weekly.results_views import chart_bars
from cogs.weekly.service import WeeklyService

LOCK = "Camera: faster start from the lock screen"
HOME = "Camera: faster start from the home screen"

# Six fans grade three items. LOCK: 4 love, 2 not good enough (33 %: flagged, yet ranked
# first). HOME: 3 love, 1 fine, 1 not good enough, 1 haven't tried (60 % of the 5 who tried).
# Dark mode: 3 love, 3 fine.
BALLOTS = {
    "f1": (1, 1, 1),
    "f2": (1, 1, 1),
    "f3": (1, 1, 1),
    "f4": (1, 2, 2),
    "f5": (3, 2, 3),
    "f6": (3, 2, 4),
}


async def run(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        out += await console.handle_line(line)
    return out


def channel(events: list[OutEvent]) -> list[str]:
    return [e.reply.plain_text() for e in events if e.to == CHANNEL]


def read_csv(path: str) -> list[str]:
    return Path(path).read_bytes().decode("utf-8-sig").splitlines()


async def test_results_a_new_community_can_read(console: ConsoleAdapter) -> None:
    await run(
        console,
        "/as boss owner",
        "/settings fourgrid_min_ballots 2",
        f"/release new v1 {LOCK}; Dark mode; {HOME}",
        "/report open",
    )
    for fan, grids in BALLOTS.items():
        await run(
            console, f"/as {fan} fan", *(f"/report vote {n} {g}" for n, g in enumerate(grids, 1))
        )
    closed = await run(console, "/as boss admin", "/report close")
    [body] = [t for t in channel(closed) if "Four-grid results" in t]
    assert f"1. {LOCK}: ❤️ Love it 67% of 6 who tried" in body
    assert f"2. {HOME}: ❤️ Love it 60% of 5 who tried" in body
    # The winner is the best item not found wanting; the flagged first item is listed, not it.
    assert f"🍿 Popcorn award: {HOME}" in body
    flagged = body.split("Not good enough (at least 30%")[1].split("🍿")[0]
    assert LOCK in flagged and HOME not in flagged

    # The chart draws the same numbers, with the same numbering.
    app = console.app
    svc = app.services.get(WeeklyService)
    report = await svc.report_for(1, "v1")
    res = await svc.results(report, await config.load(app.community_settings, 1))
    image = results_chart(
        chart_bars(res), res.trend, ChartText("t", "s", ["a", "b", "c", "d"], "r")
    )
    lock, home, dark = image.bars
    assert round(lock.shares[0]) == 67 and round(lock.shares[2]) == 33 and lock.untried == 0
    assert home.shares == (60.0, 20.0, 20.0) and home.untried == 1
    assert dark.shares == (50.0, 50.0, 0.0)
    assert lock.label.startswith("1. ") and home.label.startswith("2. ")
    assert lock.label != home.label and lock.label.endswith("ock screen")
    assert home.label.endswith("ome screen") and len(home.label) <= len("2. ") + 22


async def test_an_empty_report_and_two_reports_in_one_week(console: ConsoleAdapter) -> None:
    await run(console, "/as boss owner", "/release new v1 Dark mode", "/report open")
    await run(console, "/as fan fan", "/report vote 1 love")
    await run(console, "/as boss admin", "/report close")
    # A second release in the same week (Friday 2026-11-20, W47) gets its own report.
    await run(console, "/release new v2 Widgets", "/report open")
    closed = await run(console, "/report close")
    [body] = [t for t in channel(closed) if "Four-grid results: v2" in t]
    assert "Nobody filled in this report: no results and no popcorn award this time." in body
    assert "Turnout" not in body and "Widgets" not in body
    assert not [e for e in closed if e.to == CHANNEL and e.image]
    first = (await run(console, "/report export v1"))[-1]
    second = (await run(console, "/report export v2"))[-1]
    assert first.file and second.file
    assert read_csv(first.file)[-1].startswith("turnout,,,2026-W47,")
    assert read_csv(second.file)[-1].startswith("turnout,,,2026-W47 #2,")
    svc = console.app.services.get(WeeklyService)
    res = await svc.results(
        await svc.report_for(1, "v2"), await config.load(console.app.community_settings, 1)
    )
    assert res.trend == [("2026-W47", 1), ("2026-W47 #2", 0)]
    # In Chinese, and while it is open: said plainly too.
    await run(console, "/as boss owner", "/settings language zh_cn", "/release new v3 小组件")
    await run(console, "/report open")
    preview = await run(console, "/report preview")
    assert "还没有人投票。" in preview[-1].reply.plain_text()
