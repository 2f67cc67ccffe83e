"""Votes committed together: one writer drains the presses waiting and commits them as one batch.

A press (vote, unvote or +1 toggle) is queued with a future. The writer task takes whatever is
queued (up to `max_batch`), and in ONE transaction records the presses' receipts, reads the
suggestions and the votes they are about, applies the vote rules to each press in arrival order
(so two presses of one member on one suggestion behave as if run one after the other), writes
the changes with a few set-based statements, commits, and only then answers each press. A member
is therefore told "voted" only once the vote is durable.

A press that carries a receipt (the platform's id of the delivery) is a redelivery when that
receipt was recorded before: it changes nothing (a redelivered toggle does not take the vote
back) and is answered with the current state.

If a batch fails as a whole (an error the database raised), its presses are tried again one
per transaction, so one bad press fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from bot.core.clock import Clock
from bot.core.errors import UserError
from cogs.suggestions.status import CLOSED_FOR_VOTES
from storage.suggestions.posts import SuggestionRow
from storage.suggestions.vote_batch import (
    CARRIED,
    OWN,
    Pair,
    Receipt,
    VoteBatch,
    VoteBatchStore,
    VoteChanges,
)

log = logging.getLogger(__name__)

# Merge chains are short (a merge never targets a duplicate); this bounds the reads anyway.
MAX_REDIRECTS = 8


class VoteKind(StrEnum):
    VOTE = "vote"  # /vote, a reply "+1": add, or say it is already there
    UNVOTE = "unvote"  # /unvote: take it back
    TOGGLE = "toggle"  # the +1 button: add, or take back when already given


@dataclass(frozen=True)
class VoteOutcome:
    """A press's answer: the suggestion the vote is on (with its count after the press),
    whether the press changed the vote (added / removed), whether the member's vote is on it
    now, the suggestion the press was redirected from (a merged one), and whether the press
    was a redelivery (answered with the current state, nothing changed)."""

    row: SuggestionRow
    changed: bool
    voted: bool
    redirected: int | None
    again: bool = False


@dataclass
class _Press:
    kind: VoteKind
    community_id: int
    sid: int
    account_id: int
    receipt: Receipt | None
    future: asyncio.Future[VoteOutcome] = field(repr=False)


class VoteWriter:
    def __init__(self, store: VoteBatchStore, clock: Clock, *, max_batch: int = 512) -> None:
        self.store = store
        self.clock = clock
        self.max_batch = max_batch
        self._queue: deque[_Press] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: list[_Press] = []
        self.batches = 0
        self.statements = 0

    async def press(
        self,
        kind: VoteKind,
        community_id: int,
        sid: int,
        account_id: int,
        receipt: Receipt | None = None,
    ) -> VoteOutcome:
        """Queue one press; returns its answer once its batch committed (or raises the
        `UserError` the vote rules gave it)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[VoteOutcome] = loop.create_future()
        self._queue.append(_Press(kind, community_id, sid, account_id, receipt, future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="suggestions-vote-writer")
        return await future

    async def close(self) -> None:
        """Answer what is queued, then stop."""
        if self._task is not None and not self._task.done():
            waiting = [p.future for p in (*self._inflight, *self._queue)]
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
                # Woken by the first press: let the presses that are ready to run queue too,
                # so that they go in this batch rather than one each.
                await asyncio.sleep(0)
                continue
            n = min(self.max_batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(n)]
            self._inflight = batch
            try:
                await self._commit(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0], exc)
                    continue
                log.warning("a vote batch failed (%s); its presses go one at a time", exc)
                for press in batch:
                    try:
                        await self._commit([press])
                    except Exception as one:
                        _fail(press, one)
            finally:
                self._inflight = []

    async def _commit(self, batch: list[_Press]) -> None:
        now = self.clock.now()
        async with self.store.batch() as tx:
            answers = await _decide(tx, batch, now)
            self.statements += tx.statements
        self.batches += 1
        for press, answer in zip(batch, answers, strict=True):
            if press.future.done():
                continue
            if isinstance(answer, UserError):
                press.future.set_exception(answer)
            else:
                press.future.set_result(answer)


def _fail(press: _Press, exc: BaseException) -> None:
    if not press.future.done():
        press.future.set_exception(exc)


@dataclass
class _State:
    """The batch's view of the votes it touches, as the presses change it in order."""

    found: dict[Pair, str]  # as read
    now: dict[Pair, str]  # after the presses so far (absent: no vote)
    removed: set[Pair]  # taken back at some point during the batch
    counts: dict[int, int]  # each suggestion's count after the presses so far

    def add(self, pair: Pair) -> bool:
        """Vote: True when new. A carried vote becomes the member's own (not new)."""
        had = self.now.get(pair)
        self.now[pair] = OWN
        if had is None:
            self.counts[pair[0]] += 1
        return had is None

    def remove(self, pair: Pair) -> bool:
        if self.now.pop(pair, None) is None:
            return False
        self.removed.add(pair)
        self.counts[pair[0]] -= 1
        return True

    def changes(self) -> VoteChanges:
        touched = sorted(set(self.now) | self.removed)
        deleted, inserted, owned = [], [], []
        for pair in touched:
            before, after = self.found.get(pair), self.now.get(pair)
            again = pair in self.removed  # taken back, maybe given again: a vote of now
            if before is not None and (after is None or again):
                deleted.append(pair)
            if after is not None and (before is None or again):
                inserted.append(pair)
            elif before == CARRIED and after == OWN and not again:
                owned.append(pair)
        return VoteChanges(deleted, inserted, owned)


async def _decide(
    tx: VoteBatch, batch: list[_Press], now: datetime
) -> list[VoteOutcome | UserError]:
    """Apply the vote rules to each press in order, write the batch's changes, and return each
    press's answer (or the error it is refused with)."""
    receipts = {p.receipt for p in batch if p.receipt is not None}
    fresh = await tx.record_receipts(receipts, now)
    rows = await tx.suggestions(p.sid for p in batch)
    for _ in range(MAX_REDIRECTS):  # the originals of merged suggestions, if not read yet
        missing = {r.merged_into for r in rows.values() if r.merged_into is not None} - set(rows)
        if not missing:
            break
        rows.update(await tx.suggestions(missing))

    targets = [_target(rows, p) for p in batch]
    pairs = [
        (t[0].id, p.account_id)
        for p, t in zip(batch, targets, strict=True)
        if not isinstance(t, UserError)
    ]
    found = await tx.votes(pairs)
    state = _State(found, dict(found), set(), {sid: row.votes for sid, row in rows.items()})

    answers: list[VoteOutcome | UserError] = []
    seen: set[Receipt] = set()
    for p, target in zip(batch, targets, strict=True):
        first = p.receipt is None or (p.receipt in fresh and p.receipt not in seen)
        if p.receipt is not None:
            seen.add(p.receipt)
        if isinstance(target, UserError):
            answers.append(target)
            continue
        row, redirected = target
        pair = (row.id, p.account_id)
        voted = pair in state.now
        if not first:  # a redelivery: the current state, nothing changed
            changed = voted if p.kind != VoteKind.UNVOTE else not voted
            answers.append(_outcome(row, state, changed, voted, redirected, again=True))
        elif p.kind == VoteKind.UNVOTE:
            removed = state.remove(pair)
            answers.append(_outcome(row, state, removed, False, redirected))
        elif p.kind == VoteKind.TOGGLE and voted:
            state.remove(pair)
            answers.append(_outcome(row, state, True, False, redirected))
        else:
            added = state.add(pair)
            answers.append(_outcome(row, state, added, True, redirected))
    await tx.write(state.changes(), now)
    return answers


def _outcome(
    row: SuggestionRow,
    state: _State,
    changed: bool,
    voted: bool,
    redirected: int | None,
    *,
    again: bool = False,
) -> VoteOutcome:
    return VoteOutcome(
        replace(row, votes=state.counts[row.id]), changed, voted, redirected, again=again
    )


def _target(
    rows: dict[int, SuggestionRow], p: _Press
) -> tuple[SuggestionRow, int | None] | UserError:
    """The suggestion a press lands on: unknown and hidden ones are refused; a vote (not an
    unvote) for a merged one goes to its original, and one closed for votes is refused."""
    row = _visible(rows, p.community_id, p.sid)
    if row is None:
        return UserError("suggest.unknown", id=p.sid)
    if p.kind == VoteKind.UNVOTE:
        return row, None
    redirected_from = None
    seen = {row.id}
    while row.merged_into is not None:
        redirected_from = redirected_from or row.id
        nxt = _visible(rows, p.community_id, row.merged_into)
        if nxt is None:
            return UserError("suggest.unknown", id=row.merged_into)
        row = nxt
        if row.id in seen:
            break
        seen.add(row.id)
    if row.status in CLOSED_FOR_VOTES:
        return UserError("vote.closed", id=row.id, status=row.status)
    return row, redirected_from


def _visible(rows: dict[int, SuggestionRow], community_id: int, sid: int) -> SuggestionRow | None:
    row = rows.get(sid)
    if row is None or row.community_id != community_id or row.hidden:
        return None
    return row
