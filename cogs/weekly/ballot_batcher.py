"""Group commit for ballots: when many fans press grid buttons at once, the ballots that arrive
while one transaction is being written go together into the next one. A lone ballot is written
at once; nobody waits for a timer. Each caller still gets its own answer; when a batch fails, its
ballots are retried one by one, so one bad ballot never fails the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from storage.weekly.ballots import Ballot, BallotRepo

log = logging.getLogger(__name__)


class BallotBatcher:
    def __init__(self, repo: BallotRepo, max_batch: int = 500) -> None:
        self.repo = repo
        self.max_batch = max_batch
        self._queue: list[tuple[Ballot, asyncio.Future[bool]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def cast(self, ballot: Ballot) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((ballot, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
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
                results = await self.repo.cast_many([b for b, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                log.warning("a batch of %d ballots failed (%s); one by one now", len(batch), exc)
                for ballot, future in batch:
                    try:
                        _settle(future, await self.repo.cast(ballot))
                    except Exception as one:
                        _settle(future, one)
                continue
            for (_ballot, future), ok in zip(batch, results, strict=True):
                _settle(future, ok)


def _settle(future: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
