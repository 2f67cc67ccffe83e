"""Delivering the outbox on Telegram: within the sending limits, 429 → retry after the time
Telegram asks for, a member who never started (or blocked) the bot → given up, kept."""

from __future__ import annotations

import logging

from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from bot.adapters.telegram.sender import Sender, retry_after_seconds, unreachable_error
from bot.core.outbox import PARTS_SENT, DeliveryFailed, DeliveryRetry, OutboxItem
from bot.core.reply import Reply
from storage.platform.telegram import TelegramRepo

log = logging.getLogger(__name__)

# A message whose chat has no free slot for longer than this goes back to the queue, so the
# worker keeps delivering to other chats meanwhile (a busy group allows 20 messages a minute).
MAX_PACE_WAIT = 2.0


class OutboxDelivery:
    def __init__(self, sender: Sender, repo: TelegramRepo) -> None:
        self.sender = sender
        self.repo = repo

    async def __call__(self, item: OutboxItem) -> None:
        if item.kind == "role":
            # Telegram has no roles to grant: the participation tiers are shown as lists instead.
            return
        if item.kind == "thread":
            # Nor threads: a suggestion's discussion is the replies to its card (and /show).
            return
        chat_id = int(item.target)
        reply = Reply.from_dict(item.payload)
        reply.ephemeral = False
        wait = self.sender.throttle.delay(chat_id)
        if wait > MAX_PACE_WAIT:
            raise DeliveryRetry(wait, "paced: Telegram's per-chat limits")
        # A reply parked after its first messages went out: the rest only.
        skip = int(item.payload.get(PARTS_SENT) or 0)
        try:
            await self._send(chat_id, reply, item.community_id, skip)
        except ChatMigrated as exc:
            # A group became a supergroup: the community follows it, and so does the message.
            await self.repo.migrate_chat(str(chat_id), str(exc.new_chat_id))
            await self._send(exc.new_chat_id, reply, item.community_id, skip)

    async def _send(self, chat_id: int, reply: Reply, community_id: int, skip: int) -> None:
        try:
            await self.sender.send(chat_id, reply, community_id, wait_on_flood=False, skip=skip)
        except RetryAfter as exc:
            raise DeliveryRetry(retry_after_seconds(exc), str(exc)) from exc
        except (Forbidden, BadRequest) as exc:
            if unreachable_error(exc):
                raise DeliveryFailed(str(exc)) from exc
            raise
