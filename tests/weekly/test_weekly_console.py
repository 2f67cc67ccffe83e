"""A whole simulated week through the console with the fake clock: release on Friday, the report
opens on Tuesday, fans fill it in with buttons and text, it closes, the results and the popcorn
award are posted. And the same week with the bot down over Tuesday."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import CHANNEL, OutEvent
from bot.core.clock import FakeClock
from tests.weekly.weekly_helpers import utc_dt


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out += await console.handle_line(line)
    return out


def texts(events: list[OutEvent], to: str | None = None) -> list[str]:
    return [e.reply.plain_text() for e in events if to is None or e.to == to]


def read(path: str) -> bytes:
    return Path(path).read_bytes()


async def press(console: ConsoleAdapter, label_part: str) -> list[OutEvent]:
    """Press the button (or select option) of the last reply whose label contains `label_part`."""
    for n, (label, _action) in enumerate(console.last_actions, 1):
        if label_part in label:
            return await console.handle_line(f"!{n}")
    raise AssertionError(f"no button {label_part!r} in {console.last_actions}")


FRIDAY = """
/as boss owner
/settings fourgrid_min_ballots 2
/as alice fan
/suggest "Dark mode for the app" "Too bright at night"
/suggest "Lock screen widgets" "Weather and calendar"
/as bob fan
/vote 1
/as boss admin
/release new v1.2 #1; Faster camera start; 新的桌面小组件
"""


async def test_a_whole_week(console: ConsoleAdapter) -> None:
    friday = await run(console, FRIDAY)
    changelog = texts(friday, CHANNEL)[-1]
    assert "🍊 v1.2 is out · 2026-11-20" in changelog and "新的桌面小组件" in changelog
    told = {e.to for e in friday if "Shipped in v1.2" in e.reply.plain_text()}
    assert told == {"alice", "bob"}
    assert "opens Tue 2026-11-24 10:00 (UTC)" in changelog

    assert texts(await console.handle_line("/advance 4d"), CHANNEL) == []  # Tue 09:00
    tuesday = await console.handle_line("/advance 1h")
    opened = [e for e in tuesday if e.to == CHANNEL]
    assert len(opened) == 1 and "📝 Four-grid report: v1.2" in opened[0].reply.plain_text()
    assert opened[0].actions == [("📝 Fill in", opened[0].actions[0][1])]

    # Alice uses the buttons: Fill in → item 1 → 2 → 3 → most anticipated → done.
    await console.handle_line("/as alice fan")
    page = await press(console, "Fill in")
    assert "1/3" in page[0].reply.title and page[0].reply.ephemeral
    page = await press(console, "Love it")
    assert "2/3" in page[0].reply.title
    page = await press(console, "Love it")
    assert "3/3" in page[0].reply.title
    page = await press(console, "Not good enough")
    assert "most anticipated" in page[0].reply.title
    picked = await press(console, "#2 Lock screen widgets")
    assert "Your most anticipated: #2" in texts(picked)[0]
    # She changes her mind about item 2 by going back from the report.
    page = await console.handle_line("/report fill")
    assert "most anticipated" in page[0].reply.title  # everything graded: the last page
    page = await press(console, "Back")
    page = await press(console, "Back")
    assert "2/3" in page[0].reply.title and "Your grid: ❤️ Love it" in page[0].reply.text
    page = await press(console, "Fine")
    assert "3/3" in page[0].reply.title

    # Bob and Carol use text commands.
    await run(console, "/as bob fan\n/report vote 1 love\n/report vote 2 不够好\n/report vote 3 4")
    carol = await run(console, "/as carol fan\n/report vote 1 1\n/report vote 9 love")
    assert "Give an item number from 1 to 3" in texts(carol)[-1]

    thursday = await console.handle_line("/advance 2d")
    results = [e for e in thursday if e.to == CHANNEL]
    assert len(results) == 1
    body = results[0].reply.plain_text()
    assert "📊 Four-grid results: v1.2" in body
    assert "Turnout: 3" in body
    assert "1. Dark mode for the app: ❤️ Love it 100% of 3 who tried" in body
    assert "• Faster camera start: 👎 Not good enough 50% of 2" in body
    assert "• #2 Lock screen widgets (picked by 1)" in body
    assert "🍿 Popcorn award: Dark mode for the app" in body
    assert "alice" not in body and "bob" not in body  # no individual ballot is shown
    assert results[0].image is not None
    assert read(results[0].image).startswith(b"\x89PNG")

    # Closed: an old ballot page no longer takes grids.
    await console.handle_line("/as alice fan")
    late = await console.handle_line("/report vote 1 fine")
    assert late[0].reply.error and "No four-grid report is open" in texts(late)[0]

    listing = await run(console, "/releases")
    assert "v1.2 · 2026-11-20 · items: 3 · 🍿 Dark mode for the app" in texts(listing)[-1]
    csv_event = (await run(console, "/as boss admin\n/report export"))[-1]
    assert csv_event.file is not None
    rows = read(csv_event.file).decode("utf-8-sig").splitlines()
    assert rows[0].startswith("kind,rank,position,title")
    assert rows[1].startswith("item,1,1,Dark mode for the app,1,3,0,0,0,3,")


async def test_the_same_week_with_the_bot_down_over_tuesday(console: ConsoleAdapter) -> None:
    await run(console, FRIDAY.replace("/as boss owner", "/as boss owner\n/settings language zh_cn"))
    clock = console.app.clock
    assert isinstance(clock, FakeClock)
    clock.set(utc_dt(2026, 11, 25, 12, 0))  # down from Friday until Wednesday noon
    started = await console.handle_line("/advance 1h")
    opened = [e for e in started if e.to == CHANNEL]
    assert len(opened) == 1 and "📝 四格报告：v1.2" in opened[0].reply.plain_text()
    assert "开放至 2026-11-27（周五）13:00（UTC）" in opened[0].reply.plain_text()
    assert texts(await console.handle_line("/advance 1h"), CHANNEL) == []  # once

    await run(console, "/as alice fan\n/report vote 1 love\n/report vote 2 fine")
    await run(console, "/as bob fan\n/language zh_cn\n/report vote 1 爱了")
    page = await run(console, "/report fill")
    assert "你的选择：尚未选择" in texts(page)[-1]
    assert texts(await console.handle_line("/advance 1d"), CHANNEL) == []
    friday = await console.handle_line("/advance 1d")
    results = [e for e in friday if e.to == CHANNEL]
    assert len(results) == 1
    body = results[0].reply.plain_text()
    assert "📊 四格报告结果：v1.2" in body and "参与人数：2" in body
    assert "🍿 爆米花奖：Dark mode for the app" in body
