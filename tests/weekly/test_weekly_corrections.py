"""Fixing mistakes in the weekly loop through the console: a release edited or deleted (its
shipped suggestions follow), a closed report reopened and closed again with corrected results."""

from __future__ import annotations

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import CHANNEL, OutEvent

SETUP = """
/as boss owner
/settings fourgrid_min_ballots 1
/settings fourgrid_auto off
/as alice fan
/suggest "Dark mode for the app" "Too bright at night"
/suggest "Lock screen widgets" "Weather and calendar"
/suggest "Offline maps for hiking" "Download a region"
/as bob fan
/vote 1
/vote 3
/as boss admin
/status 3 planned
/release new v1.2 #1; #3; Faster camera start
"""


async def run(console: ConsoleAdapter, script: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in script.strip().splitlines():
        out += await console.handle_line(line.strip())
    return out


def said(events: list[OutEvent], to: str | None = None) -> str:
    return "\n".join(e.reply.plain_text() for e in events if to is None or e.to == to)


async def status_of(console: ConsoleAdapter, sid: int) -> str:
    return said(await console.handle_line(f"/show {sid}"))


async def test_edit_a_release_items_and_name(console: ConsoleAdapter) -> None:
    await run(console, SETUP)
    assert "Status: Shipped" in await status_of(console, 3)
    edited = await console.handle_line("/release edit v1.2 #1; #2; Faster camera start")
    body = said(edited, "boss")
    assert "Release v1.2 is corrected" in body and "Lock screen widgets (#2)" in body
    assert "newly marked shipped: 1; back to their earlier status: 1" in body
    assert "Status: Planned" in await status_of(console, 3)  # back to what it was
    assert "Status: Shipped" in await status_of(console, 2)
    assert "Shipped in v1.2" in said(edited, "alice")  # #2's voter (its author) is told

    renamed = await console.handle_line("/release edit v1.2 version=v1.2.1")
    assert "Release v1.2.1 is corrected" in said(renamed)
    assert "Note: v1.2.1" in await status_of(console, 1)
    assert "no release “v1.2”" in said(await console.handle_line("/release show v1.2"))
    assert "already is exactly that" in said(
        await console.handle_line("/release edit v1.2.1 version=v1.2.1")
    )
    assert "Give a new version name" in said(await console.handle_line("/release edit v1.2.1"))

    await console.handle_line("/report open")
    refused = await console.handle_line("/release edit v1.2.1 #1")
    assert "its items can no longer change" in said(refused)
    assert "cannot be deleted" in said(await console.handle_line("/release delete v1.2.1"))


async def test_delete_a_release(console: ConsoleAdapter) -> None:
    await run(console, SETUP)
    deleted = await console.handle_line("/release delete v1.2")
    assert "Release v1.2 is deleted. Suggestions back to their earlier status: 2" in said(deleted)
    assert "Status: New" in await status_of(console, 1)
    assert "Status: Planned" in await status_of(console, 3)
    assert "No release" in said(await console.handle_line("/releases"))
    # The name is free again, and the new release is announced like any other.
    again = await console.handle_line("/release new v1.2 #1")
    assert "🍊 v1.2 is out" in said(again, CHANNEL)
    listing = said(await console.handle_line("/releases"))
    assert listing.count("v1.2") == 1 and "deleted" not in listing


async def test_reopen_a_closed_report_posts_corrected_results(console: ConsoleAdapter) -> None:
    await run(console, SETUP + "/report open")
    await run(console, "/as alice fan\n/report vote 1 love\n/report vote 2 love\n/report vote 3 1")
    await run(console, "/as boss admin")
    closed = await console.handle_line("/report close")
    first = said(closed, CHANNEL)
    assert "Turnout: 1" in first and "Corrected" not in first

    await console.handle_line("/as alice fan")
    assert "needs the admin role" in said(await console.handle_line("/report reopen"))
    await console.handle_line("/as boss admin")
    assert "between 1h and 6d" in said(await console.handle_line("/report reopen duration=10m"))
    reopened = await console.handle_line("/report reopen duration=2h")
    assert "open again until" in said(reopened, "boss")
    assert "🔁 Reopened" in said(reopened, CHANNEL)
    assert "already open" in said(await console.handle_line("/report reopen v1.2"))

    await run(console, "/as bob fan\n/report vote 1 fine\n/report vote 2 fine\n/report vote 3 4")
    again = await console.handle_line("/advance 3h")  # closes by itself at the new time
    results = said(again, CHANNEL)
    assert "Corrected results" in results and "Turnout: 2" in results
    assert said(await console.handle_line("/advance 3h"), CHANNEL) == ""  # posted once


async def test_refusals_and_hostile_input(console: ConsoleAdapter) -> None:
    await run(console, SETUP)
    await console.handle_line("/as alice fan")
    for line in ("/release edit v1.2 version=v9", "/release delete v1.2", "/report reopen"):
        assert "needs the admin role" in said(await console.handle_line(line)), line
    await console.handle_line("/as boss admin")
    answers = {
        "/release edit nope version=v9": "no release “nope”",
        "/release edit v1.2 version=" + "v" * 65: "at most 64",
        "/release edit v1.2 #99": "no suggestion #99",
        "/release edit v1.2 #1; #1": "#1 is listed twice",
        "/release edit v1.2 " + "x" * 201: "at most 200",
        "/release delete #999": "no release “#999”",
        "/report reopen v1.2": "no four-grid report",
    }
    for line, expected in answers.items():
        out = await console.handle_line(line)
        assert out[0].reply.error and expected in said(out), (line, said(out))
    await run(console, "/release new v1.3 Faster camera start")
    taken = await console.handle_line("/release edit v1.3 version=V1.2")
    assert "already a release V1.2" in said(taken)


async def test_chinese_messages(console: ConsoleAdapter) -> None:
    await run(console, SETUP.replace("/as boss owner", "/as boss owner\n/settings language zh_cn"))
    assert "恢复为之前状态的需求：2 条" in said(await console.handle_line("/release delete v1.2"))
