"""One community across Discord and another platform, and one fan counted once across both."""

from __future__ import annotations

import re

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from devtools.servers.discord_api import FakeDiscord
from tests.discord.conftest import Bot, is_ephemeral, suggest, text_of


def code_in(text: str, command: str) -> str:
    found = re.search(rf"/{command} (\S+?)[.\s]", text)
    assert found, text
    return found.group(1)


async def test_link_and_join_across_platforms(bot: Bot, fake: FakeDiscord, app: App) -> None:
    assert app.commands.get("link") is not None and app.commands.get("join") is not None
    await suggest(bot, fake.add_member("Alice"), "Dark mode")
    console = ConsoleAdapter(app)
    # The Discord server's owner joins the console's space to the server's community.
    answer = await bot.slash(fake.owner, "community code")
    assert is_ephemeral(answer.message)
    join = code_in(text_of(answer.message), "join")
    out = await console.handle_line(f"/join {join}")
    assert "discord" in out[0].reply.plain_text()
    # Bob links his Discord account to his console account with a one-time code.
    bob = fake.add_member("Bob")
    answer = await bot.slash(bob, "link")
    assert is_ephemeral(answer.message)
    link = code_in(text_of(answer.message), "link")
    await console.handle_line("/as bob fan")
    out = await console.handle_line(f"/link {link}")
    assert "Linked" in out[0].reply.plain_text()
    # His vote counts once, wherever he gives it.
    out = await console.handle_line("/vote 1")
    assert "Votes now: 2" in out[0].reply.plain_text()
    answer = await bot.slash(bob, "vote", id="1")
    assert "already" in text_of(answer.message) and "2" in text_of(answer.message)
