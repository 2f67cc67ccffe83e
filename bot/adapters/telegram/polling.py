"""Long polling that loses nothing: a batch from `getUpdates` is stored in the inbox before the
next `getUpdates` confirms it (its offset), then handled. Updates stored but not handled when
the process stopped (SIGKILL included) are handled at the next start, before new ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.adapters.telegram.api import ApiError, LeanApi
from bot.adapters.telegram.inbox import Inbox

log = logging.getLogger(__name__)

RETRY_AFTER_ERROR = 1.0  # seconds, growing to 30 while getUpdates keeps failing
REPLAY_BATCH = 500
LIMIT = 100  # updates per getUpdates (Telegram's maximum)
# While getUpdates keeps coming back full (a burst waits at Telegram), fetching goes first and
# the fetched updates are handled once the burst is in, or after this many seconds: the event
# loop and the database then serve the fetch alone, so that the whole burst is stored (and its
# presses' answer budgets started) as soon as possible.
FETCH_FIRST = 3.0

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
        received: Callable[[Raw], None] = lambda raw: None,
        allowed_updates: list[str],
        timeout: int = 30,
        replay_first: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """`dispatch` starts handling an update; `room` is set while the adapter has room for
        more (it limits the updates in hand). `replay_first` handles what earlier processes
        left unhandled (default: every unhandled update in the inbox)."""
        self.api = api
        self.inbox = inbox
        self.dispatch = dispatch
        self.received = received
        self.room = room
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        # False while getUpdates keeps failing (the health probe): the adapter just signed in,
        # so it starts True.
        self.fetching = True
        self.replay_first = replay_first

    async def run(self, stop: asyncio.Event) -> None:
        if self.replay_first is not None:
            await self.replay_first()
        else:
            await replay(self.inbox, self.dispatch, self.room)
        # From whatever Telegram has not seen confirmed: the batch stored just before a crash
        # comes again and the inbox knows it. (Not from the highest id stored: after a week
        # without updates Telegram may start again from a lower, random id.)
        offset = 0
        delay = RETRY_AFTER_ERROR
        held: list[Raw] = []
        held_since = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if held and (
                not self.room.is_set() or loop.time() - held_since >= FETCH_FIRST or stop.is_set()
            ):
                held = self._release(held)
            await self.room.wait()
            try:
                wait = 0 if held else self.timeout
                updates = await self.api.get_updates(offset, wait, self.allowed_updates, LIMIT)
            except (ApiError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                held = self._release(held)
                self.fetching = False
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = RETRY_AFTER_ERROR
            self.fetching = True
            if not updates:
                held = self._release(held)
                continue
            # Durable before the next getUpdates (whose offset confirms these) is sent.
            try:
                new = await self.inbox.store(updates)
            except Exception:
                held = self._release(held)
                log.exception("telegram: could not store updates; fetching them again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            offset = max(int(u["update_id"]) for u in updates) + 1
            for raw in new:
                self.received(raw)
            if not held:
                held_since = loop.time()
            held.extend(new)
            if len(updates) < LIMIT:  # nothing more waiting: handle what came
                held = self._release(held)
        self._release(held)

    def _release(self, held: list[Raw]) -> list[Raw]:
        for raw in held:
            self.dispatch(raw)
        return []
