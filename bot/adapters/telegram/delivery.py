"""Delivering the outbox on Telegram: within the sending limits, 429 → retry after the time
Telegram asks for, a member who never started (or blocked) the bot → given up, kept.

A live update (`LIVE_EDIT`, a drop's counts) edits the chat's live message of its subject
(`editMessageText` with its keyboard), taking its slot in the send throttle like a message,
unless that message already shows a newer update; "message is not modified" is no failure; a
deleted or too old message is replaced by a new post; a 429 is waited out (`DeliveryRetry`)."""

from __future__ import annotations

import logging

from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from bot.adapters.telegram.members import PLATFORM
from bot.adapters.telegram.post_edits import PostEdits, edit_text, one_text
from bot.adapters.telegram.sender import Sender, retry_after_seconds, unreachable_error
from bot.core.outbox import (
    LIVE,
    LIVE_EDIT,
    PARTS_SENT,
    POST_EDIT,
    DeliveryFailed,
    DeliveryRetry,
    Outbox,
    OutboxItem,
)
from bot.core.reply import Reply
from storage.platform.telegram import TelegramRepo

log = logging.getLogger(__name__)

# A message whose chat has no free slot for longer than this goes back to the queue, so the
# worker keeps delivering to other chats meanwhile (a busy group allows 20 messages a minute).
MAX_PACE_WAIT = 2.0


class OutboxDelivery:
    def __init__(
        self, sender: Sender, repo: TelegramRepo, posts: PostEdits, outbox: Outbox
    ) -> None:
        self.sender = sender
        self.repo = repo
        self.posts = posts
        self.outbox = outbox

    async def __call__(self, item: OutboxItem) -> None:
        if item.kind == "role":
            # Telegram has no roles to grant: the participation tiers are shown as lists instead.
            return
        if item.kind == "thread":
            # Nor threads: a suggestion's discussion is the replies to its card (and /show).
            return
        if item.kind == POST_EDIT:
            # A subject's new view from a process that does not serve Telegram.
            await self.outbox.deliver_post_edit(item, self.posts.edit)
            return
        chat_id = int(item.target)
        reply = Reply.from_dict(item.payload)
        reply.ephemeral = False
        wait = self.sender.throttle.delay(chat_id)
        if wait > MAX_PACE_WAIT:
            raise DeliveryRetry(wait, "paced: Telegram's per-chat limits")
        # A reply parked after its first messages went out: the rest only.
        skip = int(item.payload.get(PARTS_SENT) or 0)
        live = item.payload.get(LIVE) if reply.subject and item.kind == "channel" else None
        try:
            await self._send(chat_id, reply, item, skip, live)
        except ChatMigrated as exc:
            # A group became a supergroup: the community follows it, and so does the message.
            await self.repo.migrate_chat(str(chat_id), str(exc.new_chat_id))
            await self._send(exc.new_chat_id, reply, item, skip, live)

    async def _send(
        self, chat_id: int, reply: Reply, item: OutboxItem, skip: int, live: str | None
    ) -> None:
        try:
            if live == LIVE_EDIT and await self._edit_live(chat_id, reply, item):
                return
            sent = await self.sender.send(
                chat_id, reply, item.community_id, wait_on_flood=False, skip=skip
            )
            if live and reply.subject and sent:
                await self.sender.messages.set_live(
                    PLATFORM,
                    str(chat_id),
                    reply.subject,
                    str(sent[-1].message_id),
                    item.id,
                    self.sender.clock.now(),
                )
        except RetryAfter as exc:
            raise DeliveryRetry(retry_after_seconds(exc), str(exc)) from exc
        except (Forbidden, BadRequest) as exc:
            if unreachable_error(exc):
                raise DeliveryFailed(str(exc)) from exc
            raise

    async def _edit_live(self, chat_id: int, reply: Reply, item: OutboxItem) -> bool:
        """Show a live update on the chat's live message of its subject; False when there is
        none that can show it (then it is posted)."""
        assert reply.subject
        messages = self.sender.messages
        known = await messages.live(PLATFORM, str(chat_id), reply.subject)
        if known is None:
            return False
        if known.item_id >= item.id:
            return True  # a newer update is shown already (this one was retried late)
        out = one_text(reply)
        if out is None:
            return False  # grew past one text message: a new post shows it whole
        await self.sender.throttle.wait(chat_id)
        try:
            await edit_text(self.sender.bot, chat_id, int(known.message_id), out)
        except BadRequest as exc:
            log.info("live message %s cannot be edited (%s): posting anew", known, exc)
            return False
        now = self.sender.clock.now()
        await messages.set_live(
            PLATFORM, str(chat_id), reply.subject, known.message_id, item.id, now
        )
        return True
