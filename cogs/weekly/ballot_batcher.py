"""Group commit for ballots: when many fans press grid buttons at once, the ballots that arrive
while one transaction is being written go together into the next one. A lone ballot is written
at once; nobody waits for a timer. Each caller is answered only after the transaction holding
its ballot committed, and gets its own answer; when a batch fails, its ballots are retried one
by one, so one bad ballot never fails the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from storage.weekly.ballots import Ballot, BallotRepo, BallotWriter

log = logging.getLogger(__name__)

SPLIT_AT = 32  # a burst's first batch is split in two from twice this many ballots (SQLite)


class BallotBatcher:
    def __init__(self, repo: BallotRepo, max_batch: int = 2000) -> None:
        self.repo = repo
        self.max_batch = max_batch
        # Two lists side by side (ballot, its caller's future): no object per ballot beyond these.
        self._ballots: list[Ballot] = []
        self._waiters: list[asyncio.Future[bool]] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written (for `fanloop bench polls`)
        self.batched = 0  # ballots in them

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
        """Write batches while ballots wait, on one connection (a fresh one after a failure)."""
        # The first batch of a burst is half of what waits (when that is many): while it is
        # written, the other half is the next batch, and the callers of the first refill the
        # queue while the second is written. So the database and the event loop work at the
        # same time, each on one batch, instead of taking turns. Only where the database
        # writes one transaction at a time, in the driver's thread beside the event loop
        # (SQLite); on PostgreSQL a commit costs more than the Python around it, so the batches
        # are kept whole.
        waiting = len(self._ballots)
        n = self.max_batch
        if self.repo.one_writer and waiting >= 2 * SPLIT_AT:
            n = min(n, (waiting + 1) // 2)
        try:
            while self._ballots:
                opened = False
                try:
                    async with self.repo.writer() as writer:
                        opened = True
                        while self._ballots:
                            batch, waiters = self._ballots[:n], self._waiters[:n]
                            del self._ballots[:n], self._waiters[:n]
                            n = self.max_batch
                            if not await self._write(writer, batch, waiters):
                                break
                except Exception as exc:
                    if opened:  # giving the connection back failed; every ballot was answered
                        log.warning("the ballot writer's connection: %s", exc)
                        continue
                    # No connection: the ballots waiting fail with that.
                    waiters = self._waiters[:]
                    self._ballots.clear()
                    self._waiters.clear()
                    for future in waiters:
                        _settle(future, exc)
        finally:
            self._worker = None

    async def _write(
        self, writer: BallotWriter, batch: list[Ballot], waiters: list[asyncio.Future[bool]]
    ) -> bool:
        """Write one batch and answer its callers; False when it failed (its ballots were then
        retried one by one, each in a transaction of its own)."""
        self.batches += 1
        self.batched += len(batch)
        try:
            results = await writer.cast_many(batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(waiters[0], exc)
                return False
            log.warning("a batch of %d ballots failed (%s); one by one now", len(batch), exc)
            for ballot, future in zip(batch, waiters, strict=True):
                try:
                    _settle(future, await self.repo.cast(ballot))
                except Exception as one:
                    _settle(future, one)
            return False
        for future, ok in zip(waiters, results, strict=True):
            if not future.done():  # the caller went away
                future.set_result(ok)
        return True


def _settle(future: asyncio.Future[bool], outcome: bool | BaseException) -> None:
    if future.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
