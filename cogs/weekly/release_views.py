"""How releases look, with their four-grid report and its ballot: one Reply for every adapter.

Paging: Discord fits five rows of components in one message, so the ballot shows one item per
page: four grid buttons (the fan's current grid highlighted) and ◀ ▶ — two rows at most — and a
last page with a select menu for the most anticipated suggestion. Actions: `fg:<report>:<item>:
<grid>` (put an item in a grid, then show the next page), `fgp:<report>:<page>`, `fga:<report>:
<suggestion>`, `fgd:<report>`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.actions import make_action
from bot.core.clock import utc_offset
from bot.core.reply import Button, Reply, Select, SelectOption
from cogs.suggestions.service import SuggestionRow
from cogs.weekly.config import DAYS
from cogs.weekly.fourgrid import Grid, ReportStatus
from storage.weekly.releases import ItemRow, ReleaseRow
from storage.weekly.reports import ReportRow

Tr = Callable[..., str]
MAX_OPTION = 100  # Discord's limit on a select option's label


def grid_labels(t: Tr, custom: Sequence[str] | None) -> list[str]:
    return list(custom) if custom else [t(f"fourgrid.grid.{grid.key}") for grid in Grid]


def when(t: Tr, moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return t(
        "weekly.when",
        day=t(f"weekly.day.{DAYS[local.weekday()]}"),
        date=local.strftime("%Y-%m-%d"),
        time=local.strftime("%H:%M"),
        tz=utc_offset(local),
    )


def item_line(t: Tr, item: ItemRow, number: int | None = None) -> str:
    prefix = f"{number}. " if number is not None else "• "
    if item.suggestion_id is not None:
        return prefix + t("release.item.suggestion", title=item.title, id=item.suggestion_id)
    return prefix + item.title


# -- releases ----------------------------------------------------------------------------------


def changelog(
    t: Tr, release: ReleaseRow, items: Sequence[ItemRow], next_report: str | None
) -> Reply:
    return Reply(
        title=t(
            "release.changelog.title", version=release.version, date=release.released_on.isoformat()
        ),
        text="\n".join(item_line(t, item) for item in items),
        footer=t("release.changelog.footer", when=next_report) if next_report else "",
        subject=f"rl:{release.id}",
        web_path="/changelog",
    )


def release_status(t: Tr, report: ReportRow | None, award: str | None) -> str:
    if report is None:
        return t("release.status.no_report")
    if report.status == ReportStatus.OPEN:
        return t("release.status.open")
    if award:
        return t("release.status.award", title=award)
    return t("release.status.closed")


def release_line(t: Tr, release: ReleaseRow, count: int, status: str) -> str:
    return t(
        "release.line",
        version=release.version,
        date=release.released_on.isoformat(),
        count=count,
        status=status,
    )


# -- the report ---------------------------------------------------------------------------------


def report_opened(
    t: Tr,
    release: ReleaseRow,
    report: ReportRow,
    items: Sequence[ItemRow],
    tz: ZoneInfo,
    *,
    preview: bool = False,
) -> Reply:
    labels = grid_labels(t, report.labels)
    lines = [t("fourgrid.opened.intro"), ""]
    lines += [item_line(t, item, n) for n, item in enumerate(items, 1)]
    lines += ["", " · ".join(labels)]
    footer = t("fourgrid.opened.footer", when=when(t, report.closes_at, tz))
    buttons = []
    if not preview:
        buttons = [Button(t("fourgrid.button.fill"), make_action("fgp", report.id, 0), "primary")]
    return Reply(
        title=t("fourgrid.opened.title", version=release.version),
        text="\n".join(lines),
        footer=footer,
        buttons=buttons,
        subject=f"fg:{report.id}",
    )


def ballot_page(
    t: Tr,
    release: ReleaseRow,
    report: ReportRow,
    items: Sequence[ItemRow],
    page: int,
    mine: dict[int, int],
    tz: ZoneInfo,
) -> Reply:
    """One item with its four grid buttons, the fan's own choice highlighted."""
    labels = grid_labels(t, report.labels)
    item = items[page]
    chosen = mine.get(item.id)
    current = labels[chosen] if chosen is not None else t("fourgrid.page.not_yet")
    buttons = [
        Button(
            label,
            make_action("fg", report.id, item.id, grid),
            "success" if grid == chosen else "secondary",
        )
        for grid, label in enumerate(labels)
    ]
    buttons += _nav(t, report.id, page, len(items))
    return Reply(
        title=t("fourgrid.page.title", version=release.version, n=page + 1, total=len(items)),
        text=item_line(t, item) + "\n" + t("fourgrid.page.yours", grid=current),
        footer=t(
            "fourgrid.page.footer",
            when=when(t, report.closes_at, tz),
            done=len(mine),
            total=len(items),
        ),
        buttons=buttons,
        ephemeral=True,
    )


def anticipation_page(
    t: Tr,
    release: ReleaseRow,
    report: ReportRow,
    total: int,
    candidates: Sequence[SuggestionRow],
    picked: int | None,
    graded: int,
) -> Reply:
    """The last page: which open suggestion the fan looks forward to most."""
    text = [t("fourgrid.pick.question")]
    if picked is not None:
        title = next((c.title for c in candidates if c.id == picked), "")
        text.append(t("fourgrid.pick.yours", id=picked, title=title))
    select = None
    if candidates:
        select = Select(
            t("fourgrid.pick.placeholder"),
            tuple(
                SelectOption(
                    _cut(f"#{row.id} {row.title}", MAX_OPTION),
                    make_action("fga", report.id, row.id),
                    t("fourgrid.pick.votes", votes=row.votes),
                )
                for row in candidates[:25]
            ),
        )
    else:
        text.append(t("fourgrid.pick.none"))
    buttons = _nav(t, report.id, total, total)
    buttons.append(Button(t("fourgrid.button.done"), make_action("fgd", report.id), "primary"))
    return Reply(
        title=t("fourgrid.pick.title", version=release.version),
        text="\n".join(text),
        footer=t("fourgrid.pick.footer", done=graded, total=total),
        buttons=buttons,
        select=select,
        ephemeral=True,
    )


def _nav(t: Tr, report_id: int, page: int, total: int) -> list[Button]:
    out = []
    if page > 0:
        out.append(Button(t("fourgrid.button.prev"), make_action("fgp", report_id, page - 1)))
    if page < total:
        out.append(Button(t("fourgrid.button.next"), make_action("fgp", report_id, page + 1)))
    return out


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
