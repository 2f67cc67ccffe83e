"""Long polling that loses nothing: a batch from `getUpdates` is stored in the inbox before the
next `getUpdates` confirms it (its offset), then handled. Updates stored but not handled when
the process stopped (SIGKILL included) are handled at the next start, before new ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.adapters.telegram.api import ApiError, LeanApi
from bot.adapters.telegram.inbox import Inbox

log = logging.getLogger(__name__)

RETRY_AFTER_ERROR = 1.0  # seconds, growing to 30 while getUpdates keeps failing
REPLAY_BATCH = 500

Raw = dict[str, Any]


async def replay(inbox: Inbox, dispatch: Callable[[Raw], None], room: asyncio.Event) -> int:
    """Handle what was stored and not handled before the last stop (polling and webhook
    alike); how many."""
    count, after = 0, None
    while True:
        batch = await inbox.repo.unhandled(REPLAY_BATCH, after=after)
        if not batch:
            break
        for raw in batch:
            await room.wait()
            dispatch(raw)
        count += len(batch)
        after = int(batch[-1]["update_id"])
    if count:
        log.info("telegram: handling %d updates received before the last stop", count)
    return count


class Poller:
    def __init__(
        self,
        api: LeanApi,
        inbox: Inbox,
        dispatch: Callable[[Raw], None],
        room: asyncio.Event,
        *,
        allowed_updates: list[str],
        timeout: int = 30,
    ) -> None:
        """`dispatch` starts handling an update; `room` is set while the adapter has room for
        more (it limits the updates in hand)."""
        self.api = api
        self.inbox = inbox
        self.dispatch = dispatch
        self.room = room
        self.allowed_updates = allowed_updates
        self.timeout = timeout

    async def run(self, stop: asyncio.Event) -> None:
        await replay(self.inbox, self.dispatch, self.room)
        # From whatever Telegram has not seen confirmed: the batch stored just before a crash
        # comes again and the inbox knows it. (Not from the highest id stored: after a week
        # without updates Telegram may start again from a lower, random id.)
        offset = 0
        delay = RETRY_AFTER_ERROR
        while not stop.is_set():
            await self.room.wait()
            try:
                updates = await self.api.get_updates(offset, self.timeout, self.allowed_updates)
            except (ApiError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = RETRY_AFTER_ERROR
            if not updates:
                continue
            # Durable before the next getUpdates (whose offset confirms these) is sent.
            try:
                new = await self.inbox.store(updates)
            except Exception:
                log.exception("telegram: could not store updates; fetching them again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            offset = max(int(u["update_id"]) for u in updates) + 1
            for raw in new:
                self.dispatch(raw)
