"""The flash claim engine: decide in memory, commit in small batches (group commit).

Claims are queued; one writer task takes whatever is queued (up to `max_batch`), decides every
claim against the drop's state in memory, writes the batch in one transaction and only then
answers each claimer. A fan is therefore told "won" only once the win is durable, and a repeated
press (even inside the same batch) gets the same answer.

Several processes may share one PostgreSQL database: each has its own engine and the database
arbitrates. A batch that collides with another writer (unique slot, one win per account, one
waiting-list place) is rolled back whole; the engine then reloads what changed and settles that
batch's claims one at a time, so nothing is oversold and no announced win is lost. After a
collision the engine picks free slots in a random order, so that processes rarely collide again.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.clock import Clock
from cogs.drops.modes import WinSource
from storage.drops.claims import BatchCollision, BatchWrite, ClaimSnapshot, ClaimStore, HeldWin

log = logging.getLogger(__name__)

FALLBACK_TRIES = 8


class ClaimStatus(StrEnum):
    """The answer to a claim; each has its message (`drop.claim.<value>`)."""

    WON = "won"
    WAITLISTED = "waitlisted"
    SOLD_OUT = "sold_out"
    NOT_RESERVED = "not_reserved"
    LAPSED = "lapsed"  # the account's win lapsed (not confirmed in time)
    CLOSED = "closed"  # the drop was cancelled
    NOT_ELIGIBLE = "not_eligible"  # decided by the service, not by the engine


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    code: str | None = None
    units: int = 0
    confirm_by: datetime | None = None
    position: int | None = None
    again: bool = False  # the same answer as an earlier press


@dataclass
class _Op:
    drop_id: int
    account_id: int
    future: asyncio.Future[ClaimResult]


class ClaimEngine:
    def __init__(
        self,
        store: ClaimStore,
        clock: Clock,
        new_code: Callable[[], str],
        *,
        max_batch: int = 256,
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_code = new_code
        self.max_batch = max_batch
        self._states: dict[int, ClaimSnapshot] = {}
        self._contended: set[int] = set()
        self._stale: set[int] = set()  # reload what changes (not the reservations) before use
        self._queue: deque[_Op] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: list[_Op] = []
        self.batches = 0
        self.fallbacks = 0

    # -- public --------------------------------------------------------------------------------

    async def claim(self, drop_id: int, account_id: int) -> ClaimResult:
        """Claim for an account; returns once the answer is durable."""
        future: asyncio.Future[ClaimResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Op(drop_id, account_id, future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="drops-claim-engine")
        return await future

    async def prepare(self, drop_id: int) -> None:
        """Load a drop's state before its burst (reservations are fixed by then)."""
        if drop_id not in self._states:
            await self._load(drop_id)

    def invalidate(self, drop_id: int | None = None) -> None:
        """Forget what the engine knows (the database changed outside it)."""
        if drop_id is None:
            self._states.clear()
        else:
            self._states.pop(drop_id, None)

    async def close(self) -> None:
        """Answer what is queued, then stop."""
        if self._task is not None and not self._task.done():
            waiting = [op.future for op in (*self._inflight, *self._queue)]
            await asyncio.gather(*waiting, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- the writer ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            self._inflight = batch
            try:
                await self._process(batch)
            except Exception as exc:  # keep serving; these claimers get an error, not a win
                log.exception("claim batch failed")
                for op in batch:
                    self._stale.add(op.drop_id)
                    if not op.future.done():
                        op.future.set_exception(exc)

    async def _load(self, drop_id: int) -> ClaimSnapshot:
        old = self._states.get(drop_id)
        snap = await self.store.load(drop_id, reserved=old.reserved if old else None)
        if snap is None:
            raise LookupError(f"drop {drop_id} is gone")
        if old is not None:
            snap.multi_units = old.multi_units
        if drop_id in self._contended:
            random.shuffle(snap.free)
        self._states[drop_id] = snap
        self._stale.discard(drop_id)
        return snap

    async def _state(self, drop_id: int) -> ClaimSnapshot:
        state = self._states.get(drop_id)
        if state is None or drop_id in self._stale:
            state = await self._load(drop_id)
        return state

    async def _process(self, batch: list[_Op]) -> None:
        states = {drop_id: await self._state(drop_id) for drop_id in {op.drop_id for op in batch}}
        now = self.clock.now()
        write = BatchWrite()
        results = [self._decide(states[op.drop_id], op, write, now) for op in batch]
        try:
            await self.store.commit(write, now)
        except BatchCollision:
            self.fallbacks += 1
            for drop_id in {op.drop_id for op in batch}:
                self._contended.add(drop_id)
                self._stale.add(drop_id)  # the tentative decisions are void
            await self._settle_one_by_one(batch)
            return
        except BaseException:
            for op in batch:
                self._stale.add(op.drop_id)
            raise
        self.batches += 1
        for op, result in zip(batch, results, strict=True):
            if not op.future.done():
                op.future.set_result(result)

    async def _settle_one_by_one(self, batch: list[_Op]) -> None:
        """After a collision: each claim in its own transaction, reloading after each conflict."""
        for op in batch:
            for _ in range(FALLBACK_TRIES):
                state = await self._state(op.drop_id)
                now = self.clock.now()
                write = BatchWrite()
                result = self._decide(state, op, write, now)
                try:
                    await self.store.commit(write, now)
                except BatchCollision:
                    self._stale.add(op.drop_id)
                    await asyncio.sleep(random.uniform(0, 0.005))
                    continue
                except BaseException:
                    self._stale.add(op.drop_id)
                    raise
                if not op.future.done():
                    op.future.set_result(result)
                break
            else:
                if not op.future.done():
                    op.future.set_exception(RuntimeError("claim kept colliding"))

    # -- the decision --------------------------------------------------------------------------

    def _decide(self, st: ClaimSnapshot, op: _Op, write: BatchWrite, now: datetime) -> ClaimResult:
        drop_id, account = op.drop_id, op.account_id
        write.attempts[drop_id] = write.attempts.get(drop_id, 0) + 1
        held = st.winners.get(account)
        if held is not None:
            return ClaimResult(ClaimStatus.WON, held.code, held.units, held.confirm_by, again=True)
        if st.cancelled:
            return ClaimResult(ClaimStatus.CLOSED)
        if account in st.lapsed:
            return ClaimResult(ClaimStatus.LAPSED)
        if not _contains(st, account):
            return ClaimResult(ClaimStatus.NOT_RESERVED)
        position = st.waiting.get(account)
        if position is not None:
            return ClaimResult(ClaimStatus.WAITLISTED, position=position, again=True)
        units = min(st.multi_units.get(account, 1), st.per_account)
        if st.free:
            numbers = [st.free.pop() for _ in range(min(units, len(st.free)))]
            code = self.new_code()
            confirm_by = now + timedelta(seconds=st.confirm_seconds)
            st.winners[account] = HeldWin(code, len(numbers), confirm_by)
            write.wins.append(
                {
                    "drop_id": drop_id,
                    "account_id": account,
                    "code": code,
                    "units": len(numbers),
                    "source": WinSource.FLASH,
                    "won_at": now,
                    "confirm_by": confirm_by,
                }
            )
            write.slots.extend(
                {
                    "drop_id": drop_id,
                    "slot": slot,
                    "quota": st.quota,
                    "per_account": st.per_account,
                    "account_id": account,
                    "unit": unit,
                }
                for unit, slot in enumerate(numbers, start=1)
            )
            if not st.free:
                write.sold_out.add(drop_id)
            return ClaimResult(ClaimStatus.WON, code, len(numbers), confirm_by)
        if st.next_position <= st.waitlist_cap:
            position = st.next_position
            st.next_position += 1
            st.waiting[account] = position
            write.waitlist.append(
                {
                    "drop_id": drop_id,
                    "position": position,
                    "account_id": account,
                    "units": units,
                    "added_at": now,
                }
            )
            return ClaimResult(ClaimStatus.WAITLISTED, position=position)
        return ClaimResult(ClaimStatus.SOLD_OUT)


def _contains(st: ClaimSnapshot, account: int) -> bool:
    i = bisect.bisect_left(st.reserved, account)
    return i < len(st.reserved) and st.reserved[i] == account
