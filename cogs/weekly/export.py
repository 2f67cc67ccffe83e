"""`/report export`: the report's totals as CSV for admins (`bot.core.csv_files`: UTF-8 with a
byte-order mark, so spreadsheet programs read Chinese titles right).
Totals only: no individual ballot is exported."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.csv_files import csv_bytes
from cogs.weekly.fourgrid import Grid
from cogs.weekly.service import Results

HEADER = (
    "kind",
    "rank",
    "position",
    "title",
    "suggestion_id",
    "love",
    "fine",
    "not_good_enough",
    "untried",
    "tried",
    "love_share",
    "love_wilson_lower",
    "not_good_enough_share",
    "flagged",
    "award",
    "picks",
)


def results_csv(res: Results) -> bytes:
    rows: list[Sequence[object]] = []
    flagged = {r.item_id for r in res.ranking.not_good_enough}
    award = res.ranking.award.item_id if res.ranking.award else None
    for n, r in enumerate(res.ranking.ranked, 1):
        rows.append(
            (
                "item",
                n,
                r.position + 1,
                r.title,
                r.suggestion_id or "",
                r.counts[Grid.LOVE],
                r.counts[Grid.FINE],
                r.counts[Grid.BAD],
                r.counts[Grid.UNTRIED],
                r.tried,
                f"{r.love_share:.4f}",
                f"{r.score:.4f}",
                f"{r.bad_share:.4f}",
                int(r.item_id in flagged),
                int(r.item_id == award),
                "",
            )
        )
    for n, (sid, title, picks) in enumerate(res.anticipated, 1):
        rows.append(("anticipated", n, "", title, sid, *[""] * 10, picks))
    rows.append(("turnout", "", "", res.period, "", *[""] * 10, res.turnout))
    return csv_bytes(HEADER, rows)
