""" "View on the web" on Discord: a link button (style 5, with its url) beside the vote button,
through the local Discord API."""

from __future__ import annotations

from bot.core.app import App
from devtools.servers.discord_api import FakeDiscord
from tests.discord.conftest import Bot, buttons, suggest


async def test_the_card_has_a_link_button_when_the_page_is_on(
    bot: Bot, fake: FakeDiscord, app: App
) -> None:
    app.settings.web_base_url = "https://fans.example"
    alice = fake.add_member("Alice")
    first = await suggest(bot, alice, "Dark mode")
    assert [b["style"] for b in buttons(first)] == [1]  # the page is off: the vote button only

    cid, _ = await app.identity.community_for_space(
        "discord", "1100000000000000100", "", app.clock.now()
    )
    await app.community_settings.set(cid, "web", "on")
    card = await suggest(bot, alice, "Offline maps")
    vote, link = buttons(card)
    assert vote["custom_id"] == "sv:2"
    assert link["style"] == 5 and link["url"] == f"https://fans.example/c/{cid}/s/2"
    assert "custom_id" not in link and link["label"] in ("View on the web", "在网页上查看")

    # Pressing the vote button still works beside it.
    answer = await bot.run(fake.press(fake.add_member("Bob"), card, "sv:2"))
    assert answer.ack_type == 4
