"""A gate with a fixed number of slots that serves its waiters by priority, then arrival.

Acknowledgements have a hard 3-second deadline, follow-ups 15 minutes, and the database work in
between none: under a burst they all want the event loop at once. The gate lets a bounded
number of requests be in flight (so a burst is served in arrival order instead of all at once
and all late), always serves the most urgent waiter first, and wakes exactly one waiter per
freed slot (no thundering herd).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

ACK, ANSWER, WORK, EDIT = 0, 1, 2, 3  # priorities: lower is served first (EDIT: live labels)


class PriorityGate:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())

    async def acquire(self, priority: int) -> None:
        if self._free > 0:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over as we were cancelled: pass it on
            raise

    def release(self) -> None:
        """Hand the slot to the most urgent waiter, or free it."""
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1

    @asynccontextmanager
    async def slot(self, priority: int) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    async def turn(self, priority: int) -> None:
        """Wait until everything more urgent that is waiting has been served."""
        async with self.slot(priority):
            pass
