""" "View on the web" in chat (issue 17): a suggestion's card, the changelog post, the four-grid
results and a drop's card link to their page when the community's page is on (or private) and
the process knows its public address; nothing is linked otherwise. Through the console."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter, OutEvent
from bot.adapters.console.adapter import CHANNEL
from bot.adapters.console.repl import render_text
from bot.core.reply import Link, Reply
from config.settings import DEFAULT_COGS, FanloopSettings

BASE = "https://fans.example"
COGS = [c for c in DEFAULT_COGS if c != "cogs.participation"]


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    return FanloopSettings(data_dir=tmp_path / "data", cogs=COGS, web_base_url=BASE + "/")


async def say(console: ConsoleAdapter, *lines: str) -> list[OutEvent]:
    out: list[OutEvent] = []
    for line in lines:
        for part in line.strip().splitlines():
            out.extend(await console.handle_line(part.strip()))
    return out


def links(events: list[OutEvent], to: str = CHANNEL) -> list[str]:
    return [k.url for e in events if e.to == to for k in e.reply.links]


WEEK = """
/as alice fan
/suggest "Dark mode for the app" "Too bright at night"
/as boss admin
/release new v1.2 #1; Faster camera start
"""


async def test_links_when_on_and_none_when_off(console: ConsoleAdapter) -> None:
    # Off (the default): no link anywhere.
    out = await say(console, "/as boss owner", WEEK)
    assert links(out) == [] and all(not e.reply.links for e in out)

    await say(console, "/as boss owner", "/settings web on")
    shown = await say(console, "/as alice fan", "/show 1")
    page = shown[-1]
    assert [k.url for k in page.reply.links] == [f"{BASE}/c/1/s/1"]
    assert page.reply.links[0].label == "View on the web"
    assert f"View on the web: {BASE}/c/1/s/1" in render_text(page, only_you="only you")
    assert page.as_json()["links"] == [{"label": "View on the web", "url": f"{BASE}/c/1/s/1"}]

    posted = await say(console, '/suggest "Lock screen widgets" "Weather and calendar"')
    assert f"{BASE}/c/1/s/2" in links(posted)

    released = await say(console, "/as boss admin", "/release new v1.3 #2; Faster wifi")
    assert f"{BASE}/c/1/changelog" in links(released)

    created = await say(console, "/as boss owner", '/drop create Phone 5 "2026-11-21 09:00"')
    assert f"{BASE}/c/1/drops/1" in links(created)

    # In Chinese.
    await say(console, "/settings language zh_cn")
    shown = await say(console, "/as alice fan", "/show 1")
    assert shown[-1].reply.links[0].label == "在网页上查看"


async def test_the_four_grid_results_link_to_the_reports(console: ConsoleAdapter) -> None:
    await say(
        console,
        "/as boss owner",
        "/settings fourgrid_min_ballots 1",
        "/settings web on",
        WEEK,
    )
    opened = await say(console, "/advance 4d", "/advance 1h")
    assert any("Four-grid report" in e.reply.plain_text() for e in opened)
    await say(console, "/as alice fan", "/report vote 1 love", "/report vote 2 fine")
    results = [e for e in await say(console, "/advance 2d") if e.to == CHANNEL]
    assert len(results) == 1 and "Four-grid results" in results[0].reply.plain_text()
    assert [k.url for k in results[0].reply.links] == [f"{BASE}/c/1/reports"]


async def test_a_private_page_links_by_its_token(console: ConsoleAdapter) -> None:
    await say(console, "/as boss owner", "/settings web private")
    value = await console.app.community_settings.get(1, "web")
    token = value.removeprefix("private:")
    assert len(token) >= 16
    shown = await say(console, '/suggest "Dark mode" "At night"', "/show 1")
    found = links(shown, "boss") + links(shown)
    assert found and set(found) == {f"{BASE}/p/{token}/s/1"}
    assert "/c/1" not in str([e.as_json() for e in shown])
    # Off again: no link.
    await say(console, "/settings web off")
    shown = await say(console, "/show 1")
    assert all(not e.reply.links for e in shown)


async def test_no_base_url_no_link(console: ConsoleAdapter) -> None:
    console.app.settings.web_base_url = None
    out = await say(console, "/as boss owner", "/settings web on", WEEK, "/show 1")
    assert all(not e.reply.links for e in out)


def test_links_survive_the_outbox_payload() -> None:
    reply = Reply(text="x", web_path="/s/1", links=[Link("View on the web", f"{BASE}/c/1/s/1")])
    back = Reply.from_dict(reply.to_dict())
    assert back.links == reply.links and back.web_path == "/s/1"


async def test_a_post_approved_from_the_review_queue_links_to_its_page(
    console: ConsoleAdapter,
) -> None:
    await say(console, "/as alice fan", "/as boss owner", "/settings review_queue on")
    await say(console, "/settings web on")
    held = await say(console, "/as alice fan", '/suggest "Dark mode" "easier on the eyes"')
    assert links(held) == [] and links(held, "alice") == []  # held: no page yet
    approved = await say(console, "/as boss admin", "/approve 1")
    assert links(approved) == [f"{BASE}/c/1/s/1"]
