"""Public posts that Discord could not take now: kept in the outbox, posted when it answers again.

A reply that is a post (public: a status card, a suggestion card, a release) must not be lost to
an outage of Discord's API: a 429 that outlasts the waits (`acks.RATE_LIMIT_TRIES`; discord.py's
own `max_ratelimit_timeout`), a 5xx or no answer at all. Such a reply becomes a channel message
of the outbox (`Outbox.park`), which the outbox worker posts in the interaction's channel once
Discord answers, after a restart if need be, with a nonce so that a retried post is created once
(`delivery.outbox_nonce`). The interaction itself is still completed when Discord lets us: the
member is told, privately, that the post follows ("discord.posted_later").

A private reply (an error, a confirmation) is not kept: it answers an interaction whose token
lapses after 15 minutes, and it means nothing later.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.adapters.discord.render import is_private
from bot.adapters.http1 import HttpError
from bot.core.app import App
from bot.core.reply import Reply

log = logging.getLogger(__name__)

PLATFORM = "discord"
NOTICE_KEY = "discord.posted_later"


class Unavailable(Exception):
    """Discord answered a request with a 429 or a 5xx (after the waits a 429 is given)."""

    def __init__(self, status: int, body: object = None) -> None:
        super().__init__(f"{status}: {body!r}"[:300])
        self.status = status


def unavailable(status: int) -> bool:
    """A status that says "not now" (rate limited, or Discord's servers failing), not "never"."""
    return status == 429 or status >= 500


def outage(exc: BaseException) -> bool:
    """The request failed because Discord could not take it now."""
    if isinstance(exc, Unavailable | discord.RateLimited):
        return True
    if isinstance(exc, discord.HTTPException):
        return unavailable(exc.status)
    return isinstance(exc, HttpError | aiohttp.ClientError | asyncio.TimeoutError | OSError)


class LaterPosts:
    """Parks public replies Discord could not take, for the outbox worker to post."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.parked = 0  # replies parked (for tests and the log)

    @staticmethod
    def keepable(reply: Reply, community_id: int | None, channel_id: str | None) -> bool:
        """A post with a place to go: public, in a known community and channel."""
        return not is_private(reply) and community_id is not None and channel_id is not None

    def notice(self, locale: str) -> str:
        return self.app.translator(locale, NOTICE_KEY)

    async def park(
        self, reply: Reply, community_id: int | None, channel_id: str | None, why: object
    ) -> bool:
        """Keep `reply` for the outbox; False when it is not a post, or could not be stored."""
        if not self.keepable(reply, community_id, channel_id):
            return False
        assert community_id is not None and channel_id is not None
        try:
            await self.app.outbox.park(community_id, PLATFORM, channel_id, reply, member=False)
        except Exception:
            log.exception("a post to channel %s could not be kept for later", channel_id)
            return False
        self.parked += 1
        log.warning("discord: a post to channel %s is kept in the outbox (%s)", channel_id, why)
        return True
