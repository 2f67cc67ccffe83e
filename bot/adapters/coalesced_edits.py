"""Keeping live state on a message's buttons current (the vote count), for every adapter.

A burst of changes to one message makes few edits, not one each: at most one edit of a message
is on its way at a time, and changes that come in meanwhile only mark the message as changed;
one more edit follows, with the labels read after the last of them. Two edits of one message
are at least `min_interval` apart.

The platform says how to bring what a message shows up to date (`Relabel`, asked when the edit
is made, so an edit always shows the state stored then, whatever order the changes came in) and
how to make the edit (`Edit`). An edit may be asked to wait (`EditLater`: a rate limit), after
which it is made again with the state of then, or refused (`EditRefused`: the message was
deleted, is too old, or is no longer ours), after which the message is left as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

REMEMBERED = 10_000  # messages whose last buttons are kept, to skip edits that change nothing

K = TypeVar("K", bound=Hashable)  # which message (e.g. chat id and message id)
M = TypeVar("M")  # what its buttons show (the platform's keyboard or components)

# What the buttons should show now, given what they show; None when nothing changes.
Relabel = Callable[[M], Awaitable[M | None]]
# Show `M` on message `K`; False when the platform found nothing to change.
Edit = Callable[[K, M], Awaitable[bool]]
# (action, label shown) -> the label to show now, or None to keep it.
LabelFor = Callable[[str, str], Awaitable[str | None]]


class EditLater(Exception):
    """Rate limited: make the edit again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.1f} s")
        self.seconds = seconds


class EditRefused(Exception):
    """The message cannot be edited (deleted, too old, not ours): leave it as it is."""


class MessageEdits(Generic[K, M]):
    def __init__(
        self,
        edit: Edit[K, M],
        *,
        min_interval: float,
        max_wait: float = 30.0,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str = "edits",
    ) -> None:
        self._do_edit = edit
        self.min_interval = min_interval
        self.max_wait = max_wait  # a longer rate limit gives the edit up
        self._now = now
        self._sleep = sleep
        self.name = name
        self._wanted: dict[K, Relabel[M]] = {}  # an edit is due; the latest way to make it
        self._running: dict[K, asyncio.Task[None]] = {}
        self._shown: dict[K, tuple[M, float]] = {}  # what we last showed, and when
        self.edits = 0  # edits made (benchmarks and tests)

    @property
    def pending(self) -> int:
        """Messages with an edit due or on its way."""
        return len(self._running)

    def request(self, key: K, seen: M, relabel: Relabel[M]) -> None:
        """What message `key` shows may have changed (`seen`: its buttons as the event showed
        them). Returns at once; the edit happens in the background."""
        if key not in self._shown:
            self._shown[key] = (seen, float("-inf"))
        self._wanted[key] = relabel
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._run(key), name=f"{self.name}-{key}")

    async def settle(self) -> None:
        """Wait until every edit that is due has been made."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def close(self, grace: float = 2.0) -> None:
        """Finish the edits on their way for at most `grace` seconds, then give up the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.settle()), grace)
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._wanted.clear()

    async def _run(self, key: K) -> None:
        try:
            while key in self._wanted:
                wait = self._shown[key][1] + self.min_interval - self._now()
                if wait > 0:
                    await self._sleep(wait)  # more changes gather meanwhile
                relabel = self._wanted.pop(key)
                if not await self._edit(key, relabel):
                    break
        except Exception:
            log.exception("%s: could not update the buttons of message %s", self.name, key)
        finally:
            self._running.pop(key, None)
            self._wanted.pop(key, None)
            self._forget_old()

    async def _edit(self, key: K, relabel: Relabel[M]) -> bool:
        """One edit with the labels as they are now; False when the message cannot be edited."""
        markup = await relabel(self._shown[key][0])
        if markup is None:
            return True
        try:
            made = await self._do_edit(key, markup)
        except EditLater as exc:
            if exc.seconds > self.max_wait:
                log.warning(
                    "%s: rate limited for %.0f s on %s; skipping", self.name, exc.seconds, key
                )
                return False
            await self._sleep(exc.seconds)
            self._wanted.setdefault(key, relabel)  # try again, with the state of then
            return True
        except EditRefused as exc:
            log.info("%s: message %s cannot be edited: %s", self.name, key, exc)
            return False
        if made:
            self.edits += 1
        self._shown[key] = (markup, self._now())
        return True

    def _forget_old(self) -> None:
        if len(self._shown) <= REMEMBERED:
            return
        horizon = self._now() - self.min_interval
        for key in [k for k, (_, at) in self._shown.items() if at < horizon]:
            if key not in self._running:
                del self._shown[key]
