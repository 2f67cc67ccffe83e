"""The inbox: every update is stored before Telegram is told it arrived, and marked handled
once its handling finished. Stores from concurrent webhook requests are written together (one
statement for whatever is waiting), and so are the handled marks, a few times a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from bot.core.clock import Clock
from storage.platform.telegram_inbox import TelegramInboxRepo

log = logging.getLogger(__name__)

MARK_EVERY = 0.25  # seconds between writes of handled marks
MARK_BATCH = 500  # or sooner, once this many are waiting

Raw = dict[str, Any]


class Inbox:
    def __init__(
        self, repo: TelegramInboxRepo, clock: Clock, mark_every: float = MARK_EVERY
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.mark_every = mark_every
        self.worker: int | None = None  # this process's id, stored with its updates (PostgreSQL)
        self._stores: list[tuple[Sequence[Raw], asyncio.Future[set[int]]]] = []
        self._marks: list[int] = []
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def store(self, updates: Sequence[Raw]) -> list[Raw]:
        """Store `updates` durably; those that were new (the others arrived before)."""
        if not updates:
            return []
        future: asyncio.Future[set[int]] = asyncio.get_running_loop().create_future()
        self._stores.append((updates, future))
        self._kick()
        new = await future
        fresh = []
        for u in updates:  # the same update twice in one batch is handled once
            if int(u["update_id"]) in new:
                new.discard(int(u["update_id"]))
                fresh.append(u)
        return fresh

    def handled(self, update_id: int) -> None:
        """The update's handling finished: marked in the next batch."""
        self._marks.append(update_id)
        if len(self._marks) >= MARK_BATCH:
            self._kick()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.mark_every, self._kick)

    def _kick(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="telegram-inbox")

    async def _run(self) -> None:
        while self._stores or self._marks or not self._closing:
            await self._wake.wait()
            self._wake.clear()
            if self._stores:
                await self._write_stores()
            if self._marks and (
                self._timer is None or len(self._marks) >= MARK_BATCH or self._closing
            ):
                await self._write_marks()
            if self._closing and not self._stores and not self._marks:
                return

    async def _write_stores(self) -> None:
        batch, self._stores = self._stores, []
        rows: dict[int, Raw] = {}
        for updates, _ in batch:
            for u in updates:
                rows.setdefault(int(u["update_id"]), u)
        try:
            new = await self.repo.store(list(rows.values()), self.clock.now(), self.worker)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        # An update in two waiting stores is new for the first one only.
        for updates, future in batch:
            mine = {int(u["update_id"]) for u in updates} & new
            new -= mine
            if not future.done():
                future.set_result(mine)

    async def _write_marks(self) -> None:
        marks, self._marks = self._marks, []
        try:
            await self.repo.mark_handled(marks, self.clock.now())
        except Exception:
            log.exception("telegram: could not mark %d updates handled", len(marks))
            self._marks.extend(marks)  # again at the next write; a crash meanwhile replays them
            if self._timer is None and not self._closing:
                self._timer = asyncio.get_running_loop().call_later(self.mark_every, self._kick)

    async def close(self) -> None:
        """Write what is waiting and stop."""
        self._closing = True
        self._kick()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        self._task = None
        self._closing = False
