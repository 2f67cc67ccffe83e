"""The four-grid results chart (PNG): each item's grid shares as a stacked bar, best first, and
turnout against the previous weeks. matplotlib's object API on the Agg canvas (no pyplot, no
display); the fonts come from `cogs.weekly.fonts`."""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cogs.weekly import fonts

log = logging.getLogger(__name__)

GRID_COLOURS = ("#ff6900", "#8fb3d9", "#d9534f", "#d5d5d5")  # love, fine, bad, untried
TREND_COLOUR, TREND_CURRENT = "#b0b0b0", "#ff6900"
MAX_LABEL = 22
TREND_SLOTS = 8
_MISSING = re.compile(r"Glyph (\d+) .*missing from font")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0e\ufe0f\u200d\u20e3]")
_warned: set[str] = set()


@dataclass(frozen=True)
class ChartBar:
    label: str
    counts: tuple[int, int, int, int]


@dataclass(frozen=True)
class ChartText:
    title: str
    subtitle: str
    grid_labels: Sequence[str]
    trend_title: str
    axis: str = ""  # what the bars measure


@dataclass(frozen=True)
class BarLayout:
    """One item's bar as drawn: the same numbers as the results text."""

    label: str  # "2. Dark mode for…", numbered as in the text
    shares: tuple[float, float, float]  # love, fine, not good enough: % of those who tried
    untried: int  # shown beside the bar, not in it


@dataclass(frozen=True)
class ChartImage:
    png: bytes
    missing: frozenset[str]  # characters no available font could draw
    bars: tuple[BarLayout, ...] = ()


def plain(text: str) -> str:
    """Text without emoji (no chart font draws them; the chat messages keep them)."""
    return " ".join(_EMOJI.sub("", text).split())


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_middle(text: str, limit: int = MAX_LABEL) -> str:
    """The start and the end with "…" between: for long titles that begin alike."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[-tail:]


def bar_labels(titles: Sequence[str], limit: int = MAX_LABEL) -> list[str]:
    """Item labels numbered as in the results text ("1. …"). A long title is cut at its end,
    unless that makes it look like another item's: then its start and end are kept."""
    cut = [shorten(t, limit) for t in titles]
    clash = {c for c in cut if sum(1 for d in cut if d == c) > 1}
    out = []
    for n, (title, short) in enumerate(zip(titles, cut, strict=True), 1):
        if short in clash and short != " ".join(title.split()):
            short = shorten_middle(title, limit)
        out.append(f"{n}. {short}")
    return out


def bar_layout(bars: Sequence[ChartBar]) -> list[BarLayout]:
    """Bars in the order given (best first). Shares are of the fans who tried the item, the
    base of every percentage in the results text; "haven't tried" is a count beside the bar."""
    out = []
    for label, bar in zip(bar_labels([b.label for b in bars]), bars, strict=True):
        love, fine, bad, untried = bar.counts
        tried = love + fine + bad
        shares = tuple(100.0 * c / tried if tried else 0.0 for c in (love, fine, bad))
        out.append(BarLayout(label, (shares[0], shares[1], shares[2]), untried))
    return out


def results_chart(
    bars: Sequence[ChartBar],
    trend: Sequence[tuple[str, int]],
    text: ChartText,
    *,
    font_families: list[str] | None = None,
) -> ChartImage:
    """Render the chart. `trend` is (period, turnout), oldest first, this report last."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = font_families or fonts.families()
    rows = max(1, len(bars))
    height = 1.5 + 0.5 * rows + (1.9 if trend else 0.0)
    rc: Any = {"font.family": family, "font.size": 10, "axes.unicode_minus": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import matplotlib

        with matplotlib.rc_context(rc):
            fig = Figure(figsize=(8.0, height), dpi=110, layout="constrained")
            FigureCanvasAgg(fig)
            ratios = [0.5 * rows + 0.7, 1.5] if trend else [1.0]
            axes = fig.subplots(len(ratios), 1, gridspec_kw={"height_ratios": ratios})
            top = axes[0] if trend else axes
            layout = bar_layout([ChartBar(plain(b.label), b.counts) for b in bars])
            _stacked(top, layout, text)
            if trend:
                _trend(axes[1], trend, plain(text.trend_title))
            fig.suptitle(plain(text.title), fontsize=14, x=0.01, ha="left")
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
    missing = frozenset(
        chr(int(m.group(1))) for w in caught if (m := _MISSING.search(str(w.message)))
    )
    for w in caught:
        if not _MISSING.search(str(w.message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing and not missing <= _warned:
        _warned.update(missing)
        log.warning("chart text has characters no font could draw: %s", "".join(sorted(missing)))
    return ChartImage(buffer.getvalue(), missing, tuple(layout))


def _stacked(ax: object, bars: Sequence[BarLayout], text: ChartText) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    labels = [b.label for b in bars] or ["—"]
    ys = list(range(len(labels)))[::-1]  # best at the top
    lefts = [0.0] * len(labels)
    tried_grids = zip(text.grid_labels[:3], GRID_COLOURS[:3], strict=True)
    for grid, (name, colour) in enumerate(tried_grids):
        shares = [b.shares[grid] for b in bars] or [0.0]
        ax.barh(
            ys, shares, left=lefts, color=colour, label=plain(name), height=0.62, edgecolor="white"
        )
        for y, left, share in zip(ys, lefts, shares, strict=True):
            if share >= 8:
                ink = "white" if grid in (0, 2) else "#222222"
                ax.text(
                    left + share / 2,
                    y,
                    f"{share:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=ink,
                )
        lefts = [a + b for a, b in zip(lefts, shares, strict=True)]
    untried = plain(text.grid_labels[3])
    for y, b in zip(ys, bars, strict=False):
        if b.untried:
            ax.text(
                101, y, f"{untried} {b.untried}", va="center", fontsize=8, color="#777777",
                clip_on=False,
            )  # fmt: skip
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter("{x:.0f}%")
    ax.tick_params(axis="x", labelsize=8)
    if text.axis:
        ax.set_xlabel(plain(text.axis), fontsize=8, color="#555555", loc="left")
    ax.set_title(plain(text.subtitle), loc="left", fontsize=9, color="#555555")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(
        ncols=3,
        loc="upper left",
        bbox_to_anchor=(0, -0.08 if not text.axis else -0.16),
        frameon=False,
        fontsize=9,
        handlelength=1.2,
        columnspacing=1.2,
    )


def _trend(ax: object, trend: Sequence[tuple[str, int]], title: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    periods = [p for p, _ in trend]
    values = [v for _, v in trend]
    colours = [TREND_COLOUR] * (len(values) - 1) + [TREND_CURRENT]
    slots = max(len(values), TREND_SLOTS)
    xs = list(range(slots - len(values), slots))  # the latest report on the right
    ax.bar(xs, values, color=colours, width=0.6)
    for x, v in zip(xs, values, strict=True):
        ax.text(x, v, f"{v:,}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs, [p.split("-")[-1] for p in periods], fontsize=8)
    ax.set_title(title, fontsize=9, loc="left", color="#333333")
    ax.set_xlim(-0.6, slots - 0.4)
    ax.set_yticks([])
    ax.set_ylim(0, max([*values, 1]) * 1.25)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
