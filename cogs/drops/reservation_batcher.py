"""Group commit for reservations: when many fans press Reserve at once, the reservations that
arrive while one transaction is being written go together into the next one. A lone press is
written at once; nobody waits for a timer. Each caller is answered after the commit that holds
its reservation; when a batch fails, its presses are retried one by one, so one bad press never
fails the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from storage.drops.reservations import ReservationsRepo

log = logging.getLogger(__name__)

_Press = tuple[int, int, int, asyncio.Future[bool]]  # drop, account, units, answer


class ReservationBatcher:
    def __init__(
        self, repo: ReservationsRepo, now: Callable[[], datetime], max_batch: int = 2048
    ) -> None:
        self.repo = repo
        self.now = now
        self.max_batch = max_batch
        self.batches = 0
        self._queue: list[_Press] = []
        self._worker: asyncio.Task[None] | None = None

    async def reserve(self, drop_id: int, account_id: int, units: int) -> bool:
        """True when this press made the reservation; returns once it is stored."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((drop_id, account_id, units, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="drops-reservations")
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await self._worker

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            try:
                made = await self.repo.reserve_many([p[:3] for p in batch], self.now())
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][3], exc)
                    continue
                log.warning(
                    "a batch of %d reservations failed (%s); one by one now", len(batch), exc
                )
                for drop_id, account_id, units, future in batch:
                    try:
                        _settle(
                            future, await self.repo.reserve(drop_id, account_id, units, self.now())
                        )
                    except Exception as one:
                        _settle(future, one)
                continue
            self.batches += 1
            for press, ok in zip(batch, made, strict=True):
                _settle(press[3], ok)


def _settle(future: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
