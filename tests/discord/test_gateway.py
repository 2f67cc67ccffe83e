"""A full login and gateway start; where commands are synced; `serve` configured from the env."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from bot.adapters.discord import serve
from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import load_settings
from devtools.servers.discord_api import APP_ID, GUILD_ID, FakeDiscord
from tests.discord.conftest import Bot, StartBot, text_of

GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT, MEMBERS = 1 << 0, 1 << 9, 1 << 15, 1 << 1


async def test_login_sync_and_gateway(bot: Bot, fake: FakeDiscord) -> None:
    first = [(c.method, c.path) for c in fake.calls[:3]]
    assert first == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("PUT", f"/applications/{APP_ID}/commands"),
    ]
    assert fake.calls[2].status == 200, "the synced schema was refused"
    assert fake.identify is not None
    assert fake.identify["token"] == "MTEw.fake.token"
    intents = fake.identify["intents"]
    assert intents & GUILDS and intents & GUILD_MESSAGES
    assert not intents & (MESSAGE_CONTENT | MEMBERS), "privileged intents need opting in"
    names = {c["name"] for c in fake.commands[None]}
    assert {"suggest", "vote", "top", "merge", "settings", "link"} <= names
    # The gateway delivers an interaction and the bot answers it over REST.
    alice = fake.add_member("Alice")
    answer = await bot.slash(alice, "help")
    assert answer.ack_type == 4
    assert "/suggest" in text_of(answer.message)


async def test_guild_and_owner_come_from_the_gateway(bot: Bot, fake: FakeDiscord, app: App) -> None:
    # GUILD_CREATE named the community; the guild owner is an owner without any permission bit.
    answer = await bot.slash(fake.owner, "settings", _permissions=0)
    assert "Fan Club" in text_of(answer.message)
    spaces = await app.identity.spaces_of(
        (await app.identity.community_for_space("discord", str(GUILD_ID), "", app.clock.now()))[0]
    )
    assert [(s.platform, s.space_id, s.name) for s in spaces] == [
        ("discord", str(GUILD_ID), "Fan Club")
    ]


async def test_dev_guild_sync(app: App, fake: FakeDiscord, start_bot: StartBot) -> None:
    app.settings.discord_dev_guild = GUILD_ID
    bot = await start_bot()
    assert fake.calls_to("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    assert not fake.calls_to("PUT", rf"/applications/{APP_ID}/commands")
    answer = await bot.slash(fake.add_member("Alice"), "top")
    assert answer.ack_type == 4  # the guild command resolves through the tree's guild commands


async def test_message_content_intent_on_request(
    app: App, fake: FakeDiscord, start_bot: StartBot
) -> None:
    app.settings.discord_message_content = True
    await start_bot()
    assert fake.identify is not None and fake.identify["intents"] & MESSAGE_CONTENT


async def test_serve_reads_token_and_endpoints_from_the_environment(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    monkeypatch.setenv("FANLOOP_DISCORD_TOKEN", "env.token.value")
    monkeypatch.setenv("FANLOOP_DISCORD_API_BASE", fake.api_base)
    monkeypatch.setenv("FANLOOP_DISCORD_GATEWAY_URL", fake.gateway_url)
    monkeypatch.setenv("FANLOOP_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.platforms == ["discord"]
    app = await App.create(settings, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop))
    try:
        await asyncio.wait_for(fake.identified.wait(), 10)
        assert fake.identify is not None and fake.identify["token"] == "env.token.value"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await app.close()
    # The process-wide endpoints are restored once the adapter stops.
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
