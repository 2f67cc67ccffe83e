"""One community on two platforms, and one person with two accounts who counts once."""

from __future__ import annotations

import re

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.reply import Reply
from cogs.suggestions.service import SuggestionService
from tests.telegram.world import ALICE, BOB, GROUP, OWNER, World, worker


def code_in(text: str) -> str:
    match = re.search(r"(?:code is|code for [^:]+:) ([A-Z0-9-]+)", text)
    assert match, text
    return match.group(1)


async def test_join_existing_community_and_link_accounts(world: World, app: App) -> None:
    assert app.commands.get("link") is not None and app.commands.get("join") is not None
    console = ConsoleAdapter(app)
    await console.handle_line("/as you owner")
    await console.handle_line('/suggest "Dark mode" "Too bright"')
    out = await console.handle_line("/community code")
    join_code = code_in(out[0].reply.plain_text())

    # The Telegram group's owner joins the group to the console's community.
    await world.say(OWNER, f"/join {join_code}")
    assert "This place is now part of the community" in world.last(GROUP)["text"]
    spaces = await app.identity.spaces_of(1)
    assert {(s.platform, s.space_id) for s in spaces} == {
        ("console", "console"),
        ("telegram", str(GROUP)),
    }

    # Suggestions are shared: Bob votes on Telegram for the console's suggestion.
    await world.say(BOB, "/top")
    listing = world.last(GROUP)
    assert "#1 Dark mode" in listing["text"]
    await world.press(BOB, listing, "sv:1")
    svc = app.services.get(SuggestionService)
    assert (await svc.get(1, 1)).votes == 2

    # Alice votes on the console, links her Telegram account, and cannot vote twice.
    await console.handle_line("/as alice fan")
    await console.handle_line("/vote 1")
    out = await console.handle_line("/link")
    link_code = code_in(out[0].reply.plain_text())
    await world.say(ALICE, f"/link {link_code}")
    assert world.last(ALICE["id"])["text"].startswith("Linked.")
    await world.say(ALICE, "/vote 1")
    assert (await svc.get(1, 1)).votes == 3
    already = app.translator("en", "vote.already", id=1, title="Dark mode", votes=3)
    assert world.last(ALICE["id"])["text"] == already

    # Announcements go to both places.
    await app.outbox.announce(1, lambda locale: Reply(text="Shipped this week"))
    await worker(world).run_once()
    assert world.last(GROUP)["text"] == "Shipped this week"
    events = await console.handle_line("/help")  # the console delivers its outbox after a line
    assert "Shipped this week" in [e.reply.plain_text() for e in events]
