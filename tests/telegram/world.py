"""Test world for the Telegram adapter: members, a group, and helpers that feed real updates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import Update

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.delivery import OutboxDelivery
from bot.adapters.telegram.throttle import SendThrottle
from bot.core.app import App
from bot.core.outbox import OutboxWorker
from devtools.servers.telegram_api import (
    FakeTelegram,
    callback_update,
    group,
    message_update,
    private,
    user,
)

TOKEN = "7000001:TEST-token"
GROUP = -1001234
ALICE = user(101, "Alice", username="alice")
BOB = user(102, "Bob", username="bob", language_code="zh-hans")
CAROL = user(103, "Carol")
OWNER = user(201, "Olga")
ADMIN = user(202, "Adam")


class FakeMonotonic:
    """Time for the send throttle: sleeping moves it forward instead of waiting."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@dataclass
class World:
    """A group with an owner and an admin, members, and the adapter under test."""

    fake: FakeTelegram
    adapter: TelegramAdapter
    app: App
    time: FakeMonotonic
    chat: dict[str, Any] = field(default_factory=lambda: group(GROUP, "Fans of Orange"))

    async def feed(self, update: dict[str, Any]) -> dict[str, Any]:
        await self.adapter.process(Update.de_json(update, self.adapter.bot))
        return update

    async def say(
        self,
        who: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self.feed(message_update(chat or self.chat, who, text, reply_to=reply_to))

    async def dm(self, who: dict[str, Any], text: str) -> dict[str, Any]:
        return await self.feed(message_update(private(who), who, text))

    async def press(self, who: dict[str, Any], message: dict[str, Any], data: str) -> str:
        update = callback_update(who, message, data)
        await self.feed(update)
        return str(update["callback_query"]["id"])

    def last(self, chat_id: int) -> dict[str, Any]:
        sent = self.fake.sent(chat_id)
        assert sent, f"nothing was sent to {chat_id}"
        return sent[-1]

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption", "") for m in self.fake.sent(chat_id)]

    def answer(self, query_id: str) -> dict[str, Any]:
        calls = [
            c
            for c in self.fake.calls_to("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id
        ]
        assert len(calls) == 1, f"callback {query_id} answered {len(calls)} times"
        return calls[0].params


def worker(world: World) -> OutboxWorker:
    """The Telegram outbox worker of the adapter under test."""
    adapter = world.adapter
    return OutboxWorker(
        world.app.outbox,
        "telegram",
        OutboxDelivery(adapter.sender, adapter.repo, adapter.posts, world.app.outbox),
    )


def make_adapter(app: App, fake: FakeTelegram, time: FakeMonotonic) -> TelegramAdapter:
    throttle = SendThrottle(now=time.now, sleep=time.sleep)
    return TelegramAdapter(app, TOKEN, base_url=fake.base_url, concurrency=1, throttle=throttle)
