""" "View on the web" on Telegram: a URL button below the card, through the local Bot API."""

from __future__ import annotations

from bot.core.app import App
from tests.telegram.world import ALICE, GROUP, World


async def test_the_card_has_a_url_button_when_the_page_is_on(world: World, app: App) -> None:
    app.settings.web_base_url = "https://fans.example"
    await world.say(ALICE, '/suggest "Dark mode" "Too bright at night"')
    first = world.last(GROUP)
    rows = first["reply_markup"]["inline_keyboard"]
    assert all("url" not in b for row in rows for b in row)  # the page is off

    await app.community_settings.set(1, "web", "on")
    await world.say(ALICE, '/suggest "Lock screen widgets" "Weather and calendar"')
    card = world.last(GROUP)
    rows = card["reply_markup"]["inline_keyboard"]
    assert rows[0][0]["callback_data"] == "sv:2"  # the vote button stays first
    urls = [b for row in rows for b in row if "url" in b]
    assert urls == [{"text": urls[0]["text"], "url": "https://fans.example/c/1/s/2"}]
    assert urls[0]["text"] in ("View on the web", "在网页上查看")
