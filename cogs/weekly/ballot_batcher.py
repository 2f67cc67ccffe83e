"""Group commit for ballots: when many fans press grid buttons at once, the ballots that arrive
while one transaction is being written go together into the next one. A lone ballot is written
at once; nobody waits for a timer. Each caller is answered only after the transaction holding
its ballot committed, and gets its own answer; when a batch fails, its ballots are retried one
by one, so one bad ballot never fails the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from storage.weekly.ballots import Ballot, BallotRepo

log = logging.getLogger(__name__)


class BallotBatcher:
    def __init__(self, repo: BallotRepo, max_batch: int = 2000) -> None:
        self.repo = repo
        self.max_batch = max_batch
        # Two lists side by side (ballot, its caller's future): no object per ballot beyond these.
        self._ballots: list[Ballot] = []
        self._waiters: list[asyncio.Future[bool]] = []
        self._worker: asyncio.Task[None] | None = None

    async def cast(self, ballot: Ballot) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._ballots.append(ballot)
        self._waiters.append(future)
        if self._worker is None:
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await self._worker

    async def _drain(self) -> None:
        try:
            while self._ballots:
                n = self.max_batch
                batch, waiters = self._ballots[:n], self._waiters[:n]
                del self._ballots[:n], self._waiters[:n]
                await self._write(batch, waiters)
        finally:
            self._worker = None

    async def _write(self, batch: list[Ballot], waiters: list[asyncio.Future[bool]]) -> None:
        try:
            results = await self.repo.cast_many(batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(waiters[0], exc)
                return
            log.warning("a batch of %d ballots failed (%s); one by one now", len(batch), exc)
            for ballot, future in zip(batch, waiters, strict=True):
                try:
                    _settle(future, await self.repo.cast(ballot))
                except Exception as one:
                    _settle(future, one)
            return
        for future, ok in zip(waiters, results, strict=True):
            if not future.done():  # the caller went away
                future.set_result(ok)


def _settle(future: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
