"""The flash claim engine: decide in memory, commit in batches (group commit).

Claims are queued; one writer task takes whatever is queued (up to `max_batch`), decides every
claim against the drop's state in memory, writes the batch in one transaction (a few set-based
statements, whatever its size) and only then answers each claimer. A fan is therefore told
"won" only once the win is durable, and a repeated press (even inside the same batch) gets the
same answer. The private message with a winner's code is stored in the outbox by the same
transaction as the win, so a crash can never keep the win and lose the message.

Once a drop's committed state is final (every slot taken and the waiting list full, or the drop
cancelled) no claim can change it any more: such claims are answered at once from memory,
without a queue or a transaction (their presses are counted with the next batch). In a burst
that is most of them: with 1,000,000 reservers and 100,000 units, nine presses in ten come after
the sell-out.

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
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from bot.core.clock import Clock
from storage.core.outbox import NewMessage
from storage.drops.claims import (
    BatchCollision,
    BatchWrite,
    ClaimSnapshot,
    ClaimStore,
    DropWrites,
    HeldWin,
)

log = logging.getLogger(__name__)

FALLBACK_TRIES = 8
MAX_BATCH = 2048
PRESS_COUNT_DELAY = 1.0  # seconds a press answered from memory may wait to be counted
# Reservations are checked in a bitmap of account ids when it is at most this many bytes per
# reservation (ids dense enough); otherwise by binary search in the sorted ids.
BITMAP_BYTES_PER_RESERVATION = 8


class ClaimStatus(StrEnum):
    """The answer to a claim; each has its message (`drop.claim.<value>`)."""

    WON = "won"
    WAITLISTED = "waitlisted"
    SOLD_OUT = "sold_out"
    NOT_RESERVED = "not_reserved"
    LAPSED = "lapsed"  # the account's win lapsed (not confirmed in time)
    CLOSED = "closed"  # the drop was cancelled
    NOT_ELIGIBLE = "not_eligible"  # decided by the service, not by the engine


class ClaimResult(NamedTuple):
    """An answer, immutable (the shared ones below are handed to every presser). A tuple: made
    a thousand times per batch of wins, it costs a third of a frozen dataclass."""

    status: ClaimStatus
    code: str | None = None
    units: int = 0
    confirm_by: datetime | None = None
    position: int | None = None
    again: bool = False  # the same answer as an earlier press


# The answers without details are shared: most presses of a burst get one of these.
SOLD_OUT = ClaimResult(ClaimStatus.SOLD_OUT)
NOT_RESERVED = ClaimResult(ClaimStatus.NOT_RESERVED)
LAPSED = ClaimResult(ClaimStatus.LAPSED)
CLOSED = ClaimResult(ClaimStatus.CLOSED)

#: Builds the private message that carries a fresh win's code (account, result), or None.
Notice = Callable[[int, ClaimResult], NewMessage | None]
#: The delivery that caused a claim: (platform, event id), recorded with the claim's batch.
Receipt = tuple[str, str]


@dataclass(slots=True)
class _Op:
    drop_id: int
    account_id: int
    future: asyncio.Future[ClaimResult]
    notice: Notice | None
    receipt: Receipt | None


class ClaimEngine:
    def __init__(
        self,
        store: ClaimStore,
        clock: Clock,
        new_code: Callable[[], str],
        *,
        max_batch: int = MAX_BATCH,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_code = new_code
        self.max_batch = max_batch
        # Called after a batch that stored messages committed (wakes the outbox's workers).
        self.on_commit = on_commit
        self._states: dict[int, ClaimSnapshot] = {}
        self._final: set[int] = set()  # drops whose committed state no claim can change
        self._contended: set[int] = set()
        self._stale: set[int] = set()  # reload what changes (not the reservations) before use
        self._queue: deque[_Op] = deque()
        self._presses: dict[int, int] = {}  # presses answered from memory, not yet counted
        self._flushed: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: list[_Op] = []
        self._idle = False  # the writer waits for work with no deadline
        # A checkpoint started as a batch's commit starts (SQLite): it copies the batches
        # committed before back into the database file, on a connection of its own, beside it.
        self._checkpoint: asyncio.Task[None] | None = None
        self.batches = 0
        self.fallbacks = 0
        self.from_memory = 0

    # -- public --------------------------------------------------------------------------------

    async def claim(
        self,
        drop_id: int,
        account_id: int,
        *,
        notice: Notice | None = None,
        receipt: Receipt | None = None,
    ) -> ClaimResult:
        """Claim for an account; returns once the answer is durable."""
        answer = self._from_memory(drop_id, account_id)
        if answer is not None:
            return answer
        return await self._enqueue(drop_id, account_id, notice, receipt)

    async def submit(
        self,
        drop_id: int,
        account_id: int,
        *,
        notice: Notice | None = None,
        receipt: Receipt | None = None,
    ) -> tuple[ClaimResult, bool]:
        """(the answer, whether `receipt` was stored with it). `notice` builds the private
        message of a fresh win, stored in the win's own transaction."""
        answer = self._from_memory(drop_id, account_id)
        if answer is not None:
            return answer, False
        return await self._enqueue(drop_id, account_id, notice, receipt), receipt is not None

    def _from_memory(self, drop_id: int, account_id: int) -> ClaimResult | None:
        """The answer when the drop's committed state is final (decided by it alone, and
        changing nothing); None when the claim must go through a batch."""
        if drop_id not in self._final:
            return None
        self.from_memory += 1
        presses = self._presses
        presses[drop_id] = presses.get(drop_id, 0) + 1
        if self._idle or self._task is None or self._task.done():
            self._start()  # the writer counts presses within PRESS_COUNT_DELAY
        return self._answer_final(self._states[drop_id], account_id)

    def _enqueue(
        self, drop_id: int, account_id: int, notice: Notice | None, receipt: Receipt | None
    ) -> asyncio.Future[ClaimResult]:
        future: asyncio.Future[ClaimResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Op(drop_id, account_id, future, notice, receipt))
        self._start()
        return future

    async def prepare(self, drop_id: int) -> None:
        """Load a drop's state before its burst (reservations are fixed by then)."""
        if drop_id not in self._states:
            await self._load(drop_id)

    def invalidate(self, drop_id: int | None = None) -> None:
        """Forget what the engine knows (the database changed outside it)."""
        if drop_id is None:
            self._states.clear()
            self._final.clear()
        else:
            self._states.pop(drop_id, None)
            self._final.discard(drop_id)

    def refresh(self, drop_id: int | None, reservations: bool = False) -> None:
        """Another process changed a drop's claim state outside this engine (storage/drops/
        changes.py; None: every drop): read it again before the next answer, the reservations
        too when they changed. A drop answered from memory is not any more until then."""
        if reservations:
            self.invalidate(drop_id)
            return
        for known in list(self._states) if drop_id is None else [drop_id]:
            if known in self._states:
                self._stale.add(known)
                self._final.discard(known)

    async def flush(self) -> None:
        """Wait until every press so far is stored (presses answered from memory are counted
        by a later transaction)."""
        if not (self._queue or self._inflight or self._presses):
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flushed.append(done)
        self._start()
        await done

    async def close(self) -> None:
        """Answer what is queued, store the presses counted, then stop."""
        if self._task is not None and not self._task.done():
            waiting = [op.future for op in (*self._inflight, *self._queue)]
            await asyncio.gather(*waiting, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._checkpointed()
        self.store.close()

    # -- the writer ----------------------------------------------------------------------------

    def _start(self) -> None:
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="drops-claim-engine")

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._presses and not self._flushed:
                    # Presses answered from memory are counted with the next batch, or after
                    # PRESS_COUNT_DELAY, not one transaction per press.
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), PRESS_COUNT_DELAY)
                    if self._queue or self._flushed or not self._presses:
                        continue
                elif not self._presses:
                    for done in self._flushed:
                        if not done.done():
                            done.set_result(None)
                    self._flushed.clear()
                    self._wake.clear()
                    self._idle = True
                    try:
                        await self._wake.wait()
                    finally:
                        self._idle = False
                    continue
            n = min(self.max_batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(n)]
            self._inflight = batch
            try:
                await self._process(batch)
            except Exception as exc:  # keep serving; these claimers get an error, not a win
                log.exception("claim batch failed")
                for op in batch:
                    self._stale.add(op.drop_id)
                    self._final.discard(op.drop_id)
                    if not op.future.done():
                        op.future.set_exception(exc)
                if not batch:
                    await asyncio.sleep(1)  # counting presses failed: not in a tight loop
            finally:
                self._inflight = []

    async def _load(self, drop_id: int) -> ClaimSnapshot:
        old = self._states.get(drop_id)
        snap = await self.store.load(drop_id, reserved=old.reserved if old else None)
        if snap is None:
            raise LookupError(f"drop {drop_id} is gone")
        if old is not None:
            snap.multi_units = old.multi_units
        if drop_id in self._contended:
            random.shuffle(snap.free)
        if old is not None and old.bitmap is not None:
            snap.bitmap = old.bitmap
        elif snap.reserved and snap.reserved[-1] // 8 < BITMAP_BYTES_PER_RESERVATION * len(
            snap.reserved
        ):
            snap.bitmap = _bitmap(snap.reserved)
        self._states[drop_id] = snap
        self._stale.discard(drop_id)
        self._mark_final(snap)
        return snap

    def _mark_final(self, st: ClaimSnapshot) -> None:
        """Call only when `st` is what the database holds (loaded, or just committed)."""
        if st.cancelled or (not st.free and st.next_position > st.waitlist_cap):
            self._final.add(st.drop_id)
        else:
            self._final.discard(st.drop_id)

    async def _state(self, drop_id: int) -> ClaimSnapshot:
        state = self._states.get(drop_id)
        if state is None or drop_id in self._stale:
            state = await self._load(drop_id)
        return state

    async def _take_presses(self, write: BatchWrite, states: dict[int, ClaimSnapshot]) -> None:
        """Count the presses answered from memory with this batch (the drop read again if the
        engine forgot it meanwhile: its presses still count)."""
        for drop_id in list(self._presses):
            if drop_id not in states:
                try:
                    states[drop_id] = await self._state(drop_id)
                except LookupError:  # the drop is gone, and its statistics with it
                    self._presses.pop(drop_id, None)
        # (Presses of a drop first pressed during the reads above wait for the next batch.)
        for drop_id in [d for d in self._presses if d in states]:
            n = self._presses.pop(drop_id)
            self._drop_writes(write, states[drop_id], self.clock.now()).attempts += n

    def _give_back_presses(self, counted: dict[int, int]) -> None:
        for drop_id, n in counted.items():
            if n:
                self._presses[drop_id] = self._presses.get(drop_id, 0) + n

    async def _process(self, batch: list[_Op]) -> None:
        states: dict[int, ClaimSnapshot] = {}
        for op in batch:
            if op.drop_id not in states:
                states[op.drop_id] = await self._state(op.drop_id)
        now = self.clock.now()
        write = BatchWrite()
        await self._take_presses(write, states)
        counted = {drop_id: w.attempts for drop_id, w in write.drops.items()}
        decide = self._decide
        results = [decide(states[op.drop_id], op, write, now) for op in batch]
        self._start_checkpoint()
        try:
            await self.store.commit(write, now)
        except BatchCollision:
            self._give_back_presses(counted)
            self.fallbacks += 1
            for drop_id in {op.drop_id for op in batch}:
                self._contended.add(drop_id)
                self._stale.add(drop_id)  # the tentative decisions are void
                self._final.discard(drop_id)
            await self._settle_one_by_one(batch)
            return
        except BaseException:
            self._give_back_presses(counted)
            for op in batch:
                self._stale.add(op.drop_id)
            raise
        self.batches += 1
        if write.messages and self.on_commit is not None:
            self.on_commit()
        for st in states.values():
            if st.drop_id not in self._stale:
                self._mark_final(st)
        for op, result in zip(batch, results, strict=True):
            if not op.future.done():
                op.future.set_result(result)

    def _start_checkpoint(self) -> None:
        """As a batch's commit starts: copy the batches committed before it back into the
        database file beside it (SQLite), unless a copy is still running. The commit that
        reaches `wal_autocheckpoint` then finds little left to copy, and the copying runs on
        the core that the event loop leaves idle while SQLite writes; started once a batch was
        answered instead, it ran beside the loop's deciding of the next batch and slowed it
        (docs/bursts.md, "Drops: the checkpoint beside the commits")."""
        if not self.store.checkpoints:
            return
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        self._checkpoint = asyncio.create_task(
            self._run_checkpoint(), name="drops-claim-checkpoint"
        )

    async def _run_checkpoint(self) -> None:
        try:
            await self.store.checkpoint()
        except Exception:  # the commits' own checkpoint is still there
            log.exception("checkpoint beside the claim batches failed")

    async def _checkpointed(self) -> None:
        task, self._checkpoint = self._checkpoint, None
        if task is not None:
            await task

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
                if write.messages and self.on_commit is not None:
                    self.on_commit()
                if not op.future.done():
                    op.future.set_result(result)
                break
            else:
                if not op.future.done():
                    op.future.set_exception(RuntimeError("claim kept colliding"))

    # -- the decision --------------------------------------------------------------------------

    @staticmethod
    def _drop_writes(write: BatchWrite, st: ClaimSnapshot, now: datetime) -> DropWrites:
        w = write.drops.get(st.drop_id)
        if w is None:
            confirm_by = now + timedelta(seconds=st.confirm_seconds)
            w = write.drops[st.drop_id] = DropWrites(st.quota, st.per_account, confirm_by)
        return w

    @staticmethod
    def _answered_before(st: ClaimSnapshot, account: int) -> ClaimResult | None:
        """The answer when the stored state already decides this member's claim (a win, a
        place on the waiting list, a cancelled drop, a lapse, no reservation); None otherwise."""
        held = st.winners.get(account)
        if held is not None:
            return ClaimResult(ClaimStatus.WON, held.code, held.units, held.confirm_by, again=True)
        if st.cancelled:
            return CLOSED
        if account in st.lapsed:
            return LAPSED
        bits = st.bitmap  # _contains, inlined: every press of a burst asks
        if not (
            (0 <= account < len(bits) << 3 and bits[account >> 3] >> (account & 7) & 1)
            if bits is not None
            else _contains(st, account)
        ):
            return NOT_RESERVED
        position = st.waiting.get(account)
        if position is not None:
            return ClaimResult(ClaimStatus.WAITLISTED, position=position, again=True)
        return None

    @classmethod
    def _answer_final(cls, st: ClaimSnapshot, account: int) -> ClaimResult:
        """The answer in a final state, which the claim cannot change."""
        answer = cls._answered_before(st, account)
        return SOLD_OUT if answer is None else answer

    def _decide(self, st: ClaimSnapshot, op: _Op, write: BatchWrite, now: datetime) -> ClaimResult:
        account = op.account_id
        w = self._drop_writes(write, st, now)
        w.attempts += 1
        if op.receipt is not None:
            write.receipts.append(op.receipt)
        answer = self._answered_before(st, account)
        if answer is not None:
            return answer
        units = min(st.multi_units.get(account, 1), st.per_account)
        free = st.free
        if free:
            code = self.new_code()
            if units == 1:
                w.slots.append((free.pop(), account, 1))
                got = 1
            else:
                numbers = [free.pop() for _ in range(min(units, len(free)))]
                w.slots.extend((slot, account, unit) for unit, slot in enumerate(numbers, 1))
                got = len(numbers)
            st.winners[account] = HeldWin(code, got, w.confirm_by)
            w.wins.append((account, code, got))
            if not free:
                w.sold_out = True
            result = ClaimResult(ClaimStatus.WON, code, got, w.confirm_by)
            if op.notice is not None:
                message = op.notice(account, result)
                if message is not None:
                    write.messages.append(message)
            return result
        if st.next_position <= st.waitlist_cap:
            position = st.next_position
            st.next_position += 1
            st.waiting[account] = position
            w.waitlist.append((position, account, units))
            return ClaimResult(ClaimStatus.WAITLISTED, position=position)
        return SOLD_OUT


def _bitmap(ids: array[int]) -> bytearray:
    bits = bytearray(ids[-1] // 8 + 1)
    for account in ids:
        bits[account >> 3] |= 1 << (account & 7)
    return bits


def _contains(st: ClaimSnapshot, account: int) -> bool:
    bits = st.bitmap
    if bits is not None:
        return 0 <= account < len(bits) * 8 and bool(bits[account >> 3] >> (account & 7) & 1)
    i = bisect.bisect_left(st.reserved, account)
    return i < len(st.reserved) and st.reserved[i] == account
