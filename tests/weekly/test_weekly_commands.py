"""Admin commands, settings and their checks, through the console."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import CHANNEL, OutEvent
from cogs.weekly.admin import parse_items
from cogs.weekly.commands import parse_grid

LOCALES = Path(__file__).parents[2] / "cogs" / "weekly" / "locales"


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out += await console.handle_line(line)
    return out


def last(events: list[OutEvent]) -> str:
    return events[-1].reply.plain_text()


def test_release_items_and_grid_names_parse() -> None:
    assert parse_items("#12; 15；Faster camera start\n新的小组件;;") == [
        12,
        15,
        "Faster camera start",
        "新的小组件",
    ]
    labels = ["❤️ Love it", "👌 Fine", "👎 Not good enough", "🤷 Haven't tried"]
    assert [parse_grid(x, labels) for x in ("1", "love", "Fine", "不够好", "haven't tried")] == [
        0,
        0,
        1,
        2,
        3,
    ]
    assert parse_grid("Not good enough", labels) == 2
    assert parse_grid("meh!", ["Top", "Meh!", "Flop", "Skip"]) == 1


async def test_fans_cannot_run_admin_commands(console: ConsoleAdapter) -> None:
    out = await run(console, "/as mallory fan\n/release new v1 Something")
    assert out[-1].reply.error and "admin" in last(out).lower()
    out = await console.handle_line("/report open")
    assert out[-1].reply.error


async def test_manual_open_preview_close_and_show(console: ConsoleAdapter) -> None:
    out = await run(console, "/as boss admin\n/report preview")
    assert "No release has been recorded yet." in last(out)
    await run(console, '/release new "v2.0 beta" Feature A; Feature B date=2026-11-18')
    preview = await console.handle_line("/report preview")
    assert "Preview · opens by itself Tue 2026-11-24 10:00 (UTC)" in last(preview)
    assert preview[-1].actions == []
    opened = await console.handle_line("/report open")
    assert "is open until Sun 2026-11-22 09:00 (UTC)." in texts(opened)[0]
    assert any(e.to == CHANNEL for e in opened)
    again = await console.handle_line("/report open")
    assert "That release's report is already open." in last(again)
    await run(console, "/as fan1 fan\n/report vote 1 love\n/as boss admin")
    interim = await console.handle_line("/report preview")
    assert "So far: v2.0 beta (not final)" in last(interim) and interim[-1].image
    closed = await console.handle_line("/report close")
    assert "Closed. The results are posted." in texts(closed)
    assert any("📊 Four-grid results: v2.0 beta" in t for t in texts(closed, CHANNEL))
    nothing = await console.handle_line("/report close")
    assert nothing[-1].reply.error
    show = await console.handle_line('/release show "v2.0 beta"')
    assert "v2.0 beta is out · 2026-11-18" in last(show) and "report closed" in last(show)
    unknown = await console.handle_line("/release show v9")
    assert "There is no release “v9”." in last(unknown)
    dup = await console.handle_line('/release new "V2.0 BETA" X')
    assert "There is already a release V2.0 BETA." in last(dup)
    bad_date = await console.handle_line("/release new v3 X date=2026-13-01")
    assert "is not a date" in last(bad_date)
    far = await console.handle_line("/release new v3 X date=9999-12-31")
    assert "date must be between 2000-01-01 and 2100-01-01." in last(far)
    huge = await console.handle_line(f"/release show #{2**63}")
    assert f"There is no release “#{2**63}”." in last(huge)


def texts(events: list[OutEvent], to: str | None = None) -> list[str]:
    return [e.reply.plain_text() for e in events if to is None or e.to == to]


async def test_settings_are_validated_and_labels_are_used(console: ConsoleAdapter) -> None:
    await console.handle_line("/as owner owner")
    for line, expected in (
        ("/settings fourgrid_time 25:00", "is not a time of day"),
        ("/settings fourgrid_duration 10d", "between 1h and 6d"),
        ("/settings fourgrid_day someday", "someday"),
        ("/settings fourgrid_labels a|b|c", "four different labels"),
        ("/settings fourgrid_threshold 0", "threshold"),
    ):
        out = await console.handle_line(line)
        assert out[-1].reply.error and expected in last(out), (line, last(out))
    ok = await run(
        console,
        "/settings fourgrid_labels 真香 | 能用 | 翻车 | 没碰\n/settings fourgrid_time 9:05\n"
        "/settings fourgrid_duration 3d",
    )
    assert not any(e.reply.error for e in ok)
    shown = await console.handle_line("/settings fourgrid_time")
    assert "fourgrid_time = 09:05" in last(shown)
    await run(console, "/release new v1 Feature A\n/report open")
    page = await run(console, "/as fan fan\n/report fill")
    assert [label for label, _ in page[-1].actions[:4]] == ["真香", "能用", "翻车", "没碰"]
    voted = await console.handle_line("/report vote 1 翻车")
    assert "Put “Feature A” in 翻车." in last(voted)
    # Labels are kept with the report: changing them later does not relabel it.
    await run(console, "/as owner owner\n/settings fourgrid_labels reset\n/as fan fan")
    await console.handle_line("/report fill")  # all graded: the last page
    page = await console.handle_line("!1")  # ◀ Back
    assert "Your grid: 翻车" in last(page)


async def test_digest_command(console: ConsoleAdapter) -> None:
    out = await run(console, "/as boss admin\n/digest")
    assert "A quiet day: nothing new." in last(out)
    await run(console, '/as fan fan\n/suggest "Dark mode for the app" "Too bright"\n/as boss admin')
    out = await console.handle_line("/digest")
    assert "New suggestions (last 24 h): 1" in last(out) and "#1 Dark mode" in last(out)
    out = await console.handle_line("/digest on")
    assert "every day at 09:00 (UTC)" in last(out)


def _catalog(name: str) -> dict[str, str]:
    with (LOCALES / f"{name}.po").open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id}


def test_both_languages_have_every_message_with_the_same_placeholders() -> None:
    en, zh = _catalog("en"), _catalog("zh_CN")
    assert set(en) == set(zh)
    used = set()
    for path in (LOCALES.parent).glob("*.py"):
        used |= set(
            re.findall(
                r'"((?:weekly|release|fourgrid|digest|roadmap)\.[a-z_.]+)"',
                path.read_text(encoding="utf-8"),
            )
        )
    assert used <= set(en)
    for key, text in en.items():
        assert set(re.findall(r"{(\w+)", text)) == set(re.findall(r"{(\w+)", zh[key])), key
    chinese = [k for k, v in zh.items() if re.search(r"[\u4e00-\u9fff]", v)]
    assert len(chinese) > 0.8 * len(zh)


def test_discord_names_of_weekly_commands_are_valid() -> None:
    from bot.adapters.discord.translate import valid_name

    en, zh = _catalog("en"), _catalog("zh_CN")
    names = [k for k in en if k.startswith(("discord.name.", "discord.option."))]
    assert len(names) >= 20
    for key in names:
        assert en[key] == key.rsplit(".", 1)[-1], key
        assert valid_name(zh[key]), f"{key}: {zh[key]!r}"
