"""A suggestion's discussion on Discord: a public thread started from its card.

The first comment's outbox message (kind "thread", target the subject "sg:12") starts the
thread from the newest card about that subject that takes one (a card in a DM, a deleted card
or a channel where the bot may not start threads is passed over), and records it; every comment
is then posted into it, with the outbox row's nonce like any outbox message. A thread started
by a delivery that was cut short before recording it is found again by Discord's answer
(160004: the message has a thread, whose id is the message's). Messages members write in a
recorded thread are comments (`Interactions.on_message`); reading their text needs the message
content intent, as "+1" replies without a mention do.
"""

from __future__ import annotations

import logging
from typing import Literal

import discord

from bot.adapters.discord.members import PLATFORM
from bot.adapters.discord.render import render
from bot.core.app import App
from bot.core.outbox import THREAD_NAME, DeliveryFailed, OutboxItem
from bot.core.reply import Reply
from storage.platform.threads import ThreadRow, ThreadsRepo

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
ARCHIVE_MINUTES: Literal[10080] = 10080  # a week without messages before Discord archives it
NAME_MAX = 100


class DiscussionThreads:
    def __init__(self, client: discord.Client, app: App) -> None:
        self.client = client
        self.app = app
        self.repo = ThreadsRepo(app.engine)

    async def find(self, channel_id: int) -> ThreadRow | None:
        """The discussion a channel is, if it is one of the recorded threads."""
        return await self.repo.by_id(PLATFORM, str(channel_id))

    async def post(self, item: OutboxItem, nonce: str) -> None:
        name = str(item.payload.get(THREAD_NAME) or item.target)[:NAME_MAX]
        thread = await self._thread(item.community_id, item.target, name)
        reply = Reply.from_dict(item.payload)
        channel = self.client.get_partial_messageable(int(thread.thread_id))
        await channel.send(**render(reply).send(), nonce=nonce)

    async def _thread(self, community_id: int, subject: str, name: str) -> ThreadRow:
        known = await self.repo.for_subject(PLATFORM, community_id, subject)
        if known is not None:
            return known
        for chat_id, message_id in await self.repo.cards(PLATFORM, community_id, subject):
            try:
                channel = await self._channel(int(chat_id))
                if channel is None:
                    continue  # a DM, or a channel that takes no threads
                card = channel.get_partial_message(int(message_id))
                started = await card.create_thread(name=name, auto_archive_duration=ARCHIVE_MINUTES)
                thread_id = str(started.id)
            except discord.HTTPException as exc:
                if exc.code == THREAD_EXISTS:
                    thread_id = message_id  # a thread's id is its starter message's
                elif exc.status in (400, 403, 404):
                    log.info("no thread from message %s in %s: %s", message_id, chat_id, exc)
                    continue
                else:
                    raise
            row = ThreadRow(thread_id, community_id, subject, chat_id, message_id)
            return await self.repo.record(PLATFORM, row, self.app.clock.now())
        raise DeliveryFailed(f"no card of {subject} to start a thread from")

    async def _channel(self, channel_id: int) -> discord.TextChannel | None:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            channel = await self.client.fetch_channel(channel_id)
        return channel if isinstance(channel, discord.TextChannel) else None
