"""The Discord adapter under test: the real discord.py client, run by `bot.adapters.discord.run`,
against `devtools.servers.discord_api.FakeDiscord` (REST and gateway on 127.0.0.1).

Tests send real-shaped events over the fake gateway and read what the bot answered from the
fake's records; nothing of the adapter is mocked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.adapters.discord import Tuning, run
from bot.core.app import App
from bot.core.commands import Param, ParamType
from config.settings import FanloopSettings
from devtools.servers.discord_api import FakeDiscord, Interaction
from storage.platform.messages import MessagesRepo

TOKEN = "MTEw.fake.token"
FAST = Tuning(ack_budget=1.0, max_concurrency=8, guild_ready_timeout=0.05, reply_ttl=30.0)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def settings(tmp_path: Path, fake: FakeDiscord) -> FanloopSettings:
    return FanloopSettings(
        data_dir=tmp_path / "data",
        discord_token=TOKEN,
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
    )


@dataclass
class Bot:
    """A running adapter: start it (after registering any test commands), then talk to it."""

    app: App
    fake: FakeDiscord
    tuning: Tuning = FAST
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def start(self) -> Bot:
        self.fake.identified.clear()
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run(self.app, self.stop, self.tuning))
        done, _ = await asyncio.wait(
            {self.task, asyncio.create_task(self.fake.identified.wait())},
            timeout=10,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self.task in done:
            self.task.result()
        assert self.fake.identified.is_set(), "the bot did not connect to the gateway"
        return self

    async def close(self) -> None:
        if self.task is not None:
            self.stop.set()
            await asyncio.wait_for(self.task, 10)
            self.task = None

    async def run(self, payload: dict[str, Any]) -> Interaction:
        return await self.fake.run(payload)

    async def slash(self, user: dict[str, Any], name: str, /, **options: Any) -> Interaction:
        return await self.fake.run(self.fake.slash(user, name, **options))


StartBot = Callable[..., Awaitable[Bot]]


@pytest_asyncio.fixture
async def start_bot(app: App, fake: FakeDiscord) -> AsyncIterator[StartBot]:
    started: list[Bot] = []

    async def start(tuning: Tuning = FAST, app_: App | None = None) -> Bot:
        bot = Bot(app_ or app, fake, tuning)
        started.append(bot)
        return await bot.start()

    try:
        yield start
    finally:
        for bot in started:
            await bot.close()


@pytest_asyncio.fixture
async def bot(start_bot: StartBot) -> Bot:
    return await start_bot()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait until `check()` holds (for effects that follow a REST call the fake recorded)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def sample(p: Param, member: dict[str, Any]) -> Any:
    """A valid value for a parameter, as a member would enter it."""
    if p.type is ParamType.MEMBER:
        return member
    if p.type is ParamType.BOOL:
        return True
    if p.type is ParamType.CHOICE:
        return p.choices[0]
    if p.type is ParamType.INT:
        return max(p.min or 1, 1)
    if p.type is ParamType.DURATION:
        return "2h"
    if p.type is ParamType.DATETIME:
        return "2026-12-01 20:00"
    return "x" * min(max(p.min or 1, 5), p.max or 5)


def text_of(message: dict[str, Any]) -> str:
    """Everything a member reads in a message: content and embed texts."""
    parts = [message.get("content") or ""]
    for e in message.get("embeds") or []:
        parts.append((e.get("author") or {}).get("name", ""))
        parts.append(e.get("title") or "")
        parts.append(e.get("description") or "")
        for f in e.get("fields") or []:
            parts += [f["name"], f["value"]]
        parts.append((e.get("footer") or {}).get("text", ""))
    # What Discord renders: markdown escapes are not shown.
    return re.sub(r"\\([\\*_~`|>#\-\[\]()])", r"\1", "\n".join(p for p in parts if p))


def is_ephemeral(message: dict[str, Any]) -> bool:
    return bool(int(message.get("flags") or 0) & 64)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or [] for c in row.get("components", [])]


def message_bodies(fake: FakeDiscord) -> list[dict[str, Any]]:
    """Every message the bot sent or edited: responses, follow-ups, posts, DMs, replies."""
    out = []
    for call in fake.calls:
        body = call.json if isinstance(call.json, dict) else None
        if body is None:
            continue
        if call.path.endswith("/callback") and body.get("type") in (4, 7):
            out.append(body["data"])
        elif call.method in ("POST", "PATCH") and (
            call.path.startswith("/webhooks/") or re.fullmatch(r"/channels/\d+/messages", call.path)
        ):
            out.append(body)
    return out


def assert_mention_safe(fake: FakeDiscord) -> int:
    """No message of the bot's may ping anyone; returns how many messages were checked."""
    bodies = message_bodies(fake)
    for body in bodies:
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"no allowed_mentions in {body}"
        assert mentions.get("parse") == [], body
        assert not mentions.get("users") and not mentions.get("roles"), body
        assert not mentions.get("replied_user"), body
    return len(bodies)


async def suggest(bot: Bot, user: dict[str, Any], title: str, **fields: str) -> dict[str, Any]:
    """Post a suggestion through the /suggest form; returns its card once fanloop recorded what
    the message is about (replies to it route from then on)."""
    fake = bot.fake
    opened = await bot.slash(user, "suggest")
    assert opened.modal is not None, "/suggest did not open its form"
    card = (await bot.run(fake.submit(user, opened.modal, {"title": title, **fields}))).message
    refs = MessagesRepo(bot.app.engine)

    async def remembered() -> bool:
        return await refs.subject_of("discord", card["channel_id"], card["id"]) is not None

    await eventually(remembered)
    return card
