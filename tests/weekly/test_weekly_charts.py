"""The results chart: a PNG whose Chinese item names are drawn as characters, not empty boxes,
and that still renders (boxes, logged once) where no CJK font exists."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from cogs.weekly import fonts
from cogs.weekly.charts import ChartBar, ChartText, results_chart

TEXT = ChartText(
    title="四格报告 · v1.2",
    subtitle="3 人参与 · 截止 2026-11-26（周四）10:00（UTC）",
    grid_labels=["❤️ 爱了", "👌 还行", "👎 不够好", "🤷 没用过"],
    trend_title="近期参与人数",
)


def chart(label: str, families: list[str] | None = None) -> tuple[bytes, frozenset[str]]:
    image = results_chart(
        [ChartBar(label, (5, 3, 1, 1))],
        [("2026-W47", 7), ("2026-W48", 10)],
        TEXT,
        font_families=families,
    )
    return image.png, image.missing


def pixels(png: bytes) -> object:
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_chinese_names_render_with_the_cjk_font() -> None:
    assert fonts.cjk_family() is not None
    png, missing = chart("深色模式")
    assert png.startswith(b"\x89PNG") and missing == frozenset()
    assert pixels(png).shape[2] == 4  # type: ignore[attr-defined]


def test_different_chinese_names_draw_different_glyphs() -> None:
    # Without a CJK font every character is the same empty box, so two names of the same
    # length give the same picture; with it they differ.
    tofu_a, missing_a = chart("深色模式", ["DejaVu Sans"])
    tofu_b, _ = chart("相机启动", ["DejaVu Sans"])
    assert {"深", "色", "模", "式", "四", "格"} <= missing_a
    assert (pixels(tofu_a) == pixels(tofu_b)).all()  # type: ignore[attr-defined]
    real_a, none_a = chart("深色模式")
    real_b, none_b = chart("相机启动")
    assert none_a == none_b == frozenset()
    assert not (pixels(real_a) == pixels(real_b)).all()  # type: ignore[attr-defined]
    assert real_a != tofu_a


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(fonts, "_packaged_font", lambda: None)
    monkeypatch.setattr(fonts, "KNOWN_CJK", ("No Such Font Family",))
    fonts.cjk_family.cache_clear()
    yield
    fonts.cjk_family.cache_clear()


@pytest.mark.usefixtures("no_cjk_font")
def test_without_a_cjk_font_charts_still_render_and_it_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cogs.weekly.fonts"):
        assert fonts.families() == [fonts.LATIN]
        assert fonts.families() == [fonts.LATIN]
    assert len([r for r in caplog.records if "no CJK font" in r.message]) == 1
    png, missing = chart("深色模式")
    assert png.startswith(b"\x89PNG") and "深" in missing


def test_emoji_in_labels_are_left_out_of_the_chart_only() -> None:
    png, missing = chart("🎉 New icons")
    assert missing == frozenset() and png.startswith(b"\x89PNG")


def test_discord_attaches_an_export_file() -> None:
    from bot.adapters.discord.render import render
    from bot.core.reply import Reply

    rendered = render(Reply(text="totals", file=b"kind,rank\r\n", file_name="fourgrid-v1.2.csv"))
    assert rendered.file is not None and rendered.file.filename == "fourgrid-v1.2.csv"
    assert rendered.file.fp.read() == b"kind,rank\r\n"
