"""Posts about a changed subject (a suggestion edited, deleted, answered) edited in place: the
messages the bot sent about it (`message_refs`) get the subject's current embed and buttons, by
`PATCH /channels/{channel}/messages/{message}` with the bot token (messages sent as interaction
responses, follow-ups or posts alike). Ephemeral messages were never remembered; a message
deleted or no longer reachable is left alone (logged). See `bot.core.posts`."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.adapters.discord.edits import patch_message
from bot.adapters.discord.render import embed, view
from bot.adapters.discord.respond import Responder
from bot.core.context import Context
from bot.core.reply import Reply
from storage.platform.messages import MessagesRepo

log = logging.getLogger(__name__)

PLATFORM = "discord"


def edit_body(reply: Reply) -> dict[str, Any]:
    """The JSON of a message edit showing `reply` (text, embed and buttons; no file)."""
    shown = view(reply)
    return {
        "embeds": [embed(reply).to_dict()],
        "components": shown.to_components() if shown is not None else [],
        "allowed_mentions": {"parse": []},
    }


class PostEdits:
    def __init__(self, client: discord.Client, responder: Responder, messages: MessagesRepo):
        self.client = client
        self.responder = responder
        self.messages = messages
        self.edits = 0

    async def __call__(self, ctx: Context, subject: str, reply: Reply | None) -> None:
        await self.edit(ctx.community.id, subject, reply)

    async def edit(self, community_id: int, subject: str, reply: Reply | None) -> None:
        """Show `reply` (the subject's view) on this platform's messages about `subject`."""
        if reply is None:
            return
        body = edit_body(reply)
        for channel_id, message_id in await self.messages.messages_about(
            PLATFORM, subject, community_id
        ):
            try:
                await patch_message(self.client, self.responder, channel_id, message_id, body)
                self.edits += 1
            except discord.HTTPException as exc:  # deleted, not ours any more, or failing
                log.info("post %s/%s about %s not edited: %s", channel_id, message_id, subject, exc)
