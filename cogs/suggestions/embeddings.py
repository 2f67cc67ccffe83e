"""Vectors for the `semantic` extra: made off the event loop, stored, and re-made in the background.

- A query is embedded in a worker thread (the model's C engine releases the GIL), so votes and
  other handlers keep running meanwhile; the same text posted right after is not embedded again
  (the embedder keeps the last texts' vectors).
- A start reads the stored vectors with the suggestions (`VectorRepo.for_index`); a suggestion
  without a vector for the configured model (new, edited elsewhere, or made under another model)
  is indexed by its words at once and queued here. `Embeddings` works through the queue in small
  batches: a vector another process stored meanwhile is read, the rest is embedded and stored.
  Progress is logged and kept in `progress`.
- A text the model fails on does not hold up the rest: a batch that fails is embedded text by
  text, and a text the model fails on, when it embeds a probe text right after, is tried again
  after the rest of its queue. After `STRIKES` such failures it is set aside, logged once with
  the model's reason and counted in `set_aside`: it is found by its words only, until an edit
  changes its text. The mark is stored with the vectors (an empty vector and the text's hash),
  so a restart, or another process, does not try that text again. When the model fails on
  everything (out of memory, say) nothing is struck: the batch is tried again after a pause.
- Communities take turns, a batch each, so one board re-embedded whole (a model change) does
  not hold up the suggestions of the others.
- Each process takes its queue in its own random order. Processes that start on one board
  together (a model change, a deploy) then mostly read what the others stored instead of making
  the same vectors in step: k processes re-embed a board about k times faster, not k times over.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import Vectors, from_bytes, text_hash, to_bytes
from storage.suggestions.posts import IndexRow, SuggestionRepo
from storage.suggestions.vectors import SET_ASIDE, StoredText, VectorRepo

log = logging.getLogger(__name__)

#: Texts embedded per step in the background: small, so a query waits at most one step.
BATCH = 8
#: Log the progress of a large queue every this many suggestions.
LOG_EVERY = 1000
#: Failures on one text, each followed by a probe the model embeds, before it is set aside.
STRIKES = 3
#: Start of the probe text that tells a model that fails on a text from one that fails on any.
PROBE = "fanloop probe"


@dataclass
class Progress:
    done: int = 0
    total: int = 0


class _Queue:
    """One community's suggestions waiting for their vector, taken in a random order; those
    queued later are taken first (a change just heard of, before the rest of a board)."""

    def __init__(self, index: HybridIndex, rng: random.Random) -> None:
        self.index = index
        self._rng = rng
        self._order: list[int] = []
        self._waiting: set[int] = set()

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, sids: Iterable[int]) -> int:
        """Queue `sids`; how many were not queued already."""
        new = self._new(sids)
        self._rng.shuffle(new)
        self._order.extend(new)
        return len(new)

    def later(self, sids: Iterable[int]) -> None:
        """Queue `sids` to be taken after everything queued now."""
        self._order[:0] = self._new(sids)

    def _new(self, sids: Iterable[int]) -> list[int]:
        """Those of `sids` not waiting yet, now marked waiting (their place is the caller's)."""
        new = [sid for sid in dict.fromkeys(sids) if sid not in self._waiting]
        self._waiting.update(new)
        return new

    def take(self, count: int) -> list[int]:
        batch = self._order[-count:]
        del self._order[-count:]
        self._waiting.difference_update(batch)
        return batch


class Embeddings:
    def __init__(
        self,
        repo: SuggestionRepo,
        vectors: VectorRepo,
        text_of: Callable[[str, str], str],
        visible: Callable[[IndexRow], bool],
        rng: random.Random | None = None,
    ) -> None:
        self.repo = repo
        self.vectors = vectors
        self._text_of = text_of
        self._visible = visible
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="fanloop-embed")
        self._queue: dict[int, _Queue] = {}
        # This process's order (seeded from the system).
        self._rng = random.Random() if rng is None else rng
        self._busy = 0  # suggestions in the step being made
        self._task: asyncio.Task[None] | None = None
        #: Per community: suggestions given a vector since the queue was last empty, of how many.
        self.progress: dict[int, Progress] = {}
        #: Told how many suggestions each background step gave their vector (the metrics).
        self.on_added: Callable[[int], None] = _nothing
        #: Told how many texts were set aside because the model fails on them (the metrics).
        self.on_set_aside: Callable[[int], None] = _nothing
        #: Suggestions whose text the model fails on: id -> the text's hash. Found by words only.
        self.set_aside: dict[int, str] = {}
        self._strikes: dict[int, tuple[int, str]] = {}  # id -> (failures, the last reason)
        #: Seconds to wait after the n-th failure in a row before the batch is tried again.
        self.pause: Callable[[int], float] = _backoff

    async def embed(self, index: HybridIndex, texts: Sequence[str]) -> Vectors:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, index.embedder.encode, list(texts))

    async def store(self, index: HybridIndex, sid: int, text: str, vector: Vectors) -> None:
        """Keep a vector the service just made (its own post or edit); best effort: a failure
        only means it is made again on a later start."""
        self._forgive(sid)
        try:
            await self.vectors.save(index.model, [(sid, text_hash(text), to_bytes(vector))])
        except Exception as exc:
            log.warning("could not store the vector of suggestion %d: %s", sid, exc)

    async def load(self, community_id: int, index: HybridIndex, excluded_status: str) -> None:
        """Fill a new index from the database: stored vectors at once, the rest queued. The
        index is filled in a worker thread (seconds of work for a large board: the event loop
        keeps serving votes meanwhile); nothing else holds the new index until it returns."""
        rows = await self.vectors.for_index(
            community_id, index.model, excluded_status=excluded_status
        )
        missing, aside = await asyncio.to_thread(self._fill, index, rows)
        self.set_aside.update(aside)
        missing = [sid for sid in missing if sid not in aside]
        if missing:
            log.info(
                "community %d: %d of %d suggestions have no vector for %s yet; embedding them "
                "in the background (they are found by their words meanwhile)",
                community_id,
                len(missing),
                len(rows),
                index.model,
            )
            self.queue(community_id, index, missing)

    def _fill(
        self, index: HybridIndex, rows: Sequence[StoredText]
    ) -> tuple[list[int], dict[int, str]]:
        """Index `rows` (a new index), each with its stored vector when that was made from its
        text now. Returns the ids still waiting for a vector, and those of them whose text is
        marked set aside (id -> the text's hash)."""
        texts = [self._text_of(r.title, r.details) for r in rows]
        hashes = [text_hash(text) for text in texts]
        fresh = [bool(r.vector) and r.text_hash == h for r, h in zip(rows, hashes, strict=True)]
        aside = {
            r.id: h
            for r, h in zip(rows, hashes, strict=True)
            if r.vector == SET_ASIDE and r.text_hash == h
        }
        decoded = from_bytes(
            [r.vector or b"" for r, ok in zip(rows, fresh, strict=True) if ok],
            index.embedder.dim,
            np.float16,
        )
        if decoded is None:
            fresh = [False] * len(rows)
        index.put_many([(r.id, text) for r, text in zip(rows, texts, strict=True)], decoded, fresh)
        return index.missing(), aside

    def queue(self, community_id: int, index: HybridIndex, sids: Sequence[int]) -> None:
        held = self._queue.get(community_id)
        if held is None or held.index is not index:
            held = self._queue[community_id] = _Queue(index, self._rng)
        added = held.add(sids)
        progress = self.progress.setdefault(community_id, Progress())
        progress.total += added
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._work(), name="similar-embed")

    def waiting(self) -> int:
        """Suggestions waiting for their vector, in every community (found by their words
        meanwhile)."""
        return sum(len(q) for q in self._queue.values()) + self._busy

    async def idle(self) -> None:
        """Return once the queue is empty (for tests and orderly shutdowns)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def forget(self) -> None:
        """The indexes were thrown away (a resync): their queues go with them."""
        self._queue.clear()
        self.progress.clear()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _work(self) -> None:
        failures = 0
        while self._queue:
            community_id, queue = next(iter(self._queue.items()))
            # Round robin: this community goes behind the others, so a board being re-embedded
            # whole does not keep another community's new suggestions waiting.
            self._queue[community_id] = self._queue.pop(community_id)
            batch = queue.take(BATCH)
            if not batch:
                del self._queue[community_id]
                self.progress.pop(community_id, None)
                continue
            self._busy = len(batch)
            try:
                again = await self._step(community_id, queue.index, batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("could not embed %d suggestions: %s", len(batch), exc)
                self._busy = 0
                queue.add(batch)  # tried again after a pause
                await asyncio.sleep(self.pause(failures))
                continue
            self._busy = 0
            failures = 0
            queue.later(again)
            batch = [sid for sid in batch if sid not in again]
            self.on_added(len([sid for sid in batch if sid not in self.set_aside]))
            done = not queue
            if done and self._queue.get(community_id) is queue:
                del self._queue[community_id]
            progress = self.progress.get(community_id)
            if progress is None:  # forgotten meanwhile (a resync)
                continue
            progress.done += len(batch)
            if progress.total >= LOG_EVERY and (
                done or progress.done // LOG_EVERY != (progress.done - len(batch)) // LOG_EVERY
            ):
                log.info(
                    "community %d: embedded %d of %d suggestions for %s",
                    community_id,
                    progress.done,
                    progress.total,
                    queue.index.model,
                )
            if done and community_id not in self._queue:
                del self.progress[community_id]

    async def _step(self, community_id: int, index: HybridIndex, batch: list[int]) -> list[int]:
        """Give `batch` its vectors; the suggestions to try again after the rest."""
        rows = [
            r
            for r in await self.repo.index_rows(batch)
            if r.community_id == community_id and self._visible(r)
        ]
        texts = {r.id: self._text_of(r.title, r.details) for r in rows}
        stored = await self.vectors.stored(index.model, list(texts))
        ready: dict[int, Vectors] = {}
        for sid, (digest, blob) in stored.items():
            if digest != text_hash(texts[sid]):
                continue  # made from an older text
            if blob == SET_ASIDE:  # another process (or an earlier start) set it aside
                self.set_aside[sid] = digest
                continue
            decoded = from_bytes([blob], index.embedder.dim)
            if decoded is not None:
                ready[sid] = decoded[0]
        todo = {
            sid: text
            for sid, text in texts.items()
            if sid not in ready and self.set_aside.get(sid) != text_hash(text)
        }
        again: list[int] = []
        if todo:
            made = await self._make(index, todo)
            if made:
                await self.vectors.save(
                    index.model,
                    [(sid, text_hash(todo[sid]), to_bytes(vector)) for sid, vector in made.items()],
                )
            ready.update(made)
            again = [sid for sid in todo if sid not in made and not self._struck_out(sid, todo)]
            await self._mark_set_aside(
                index, [sid for sid, t in todo.items() if self.set_aside.get(sid) == text_hash(t)]
            )
        for sid, vector in ready.items():
            self._forgive(sid)
            index.set_vector(sid, texts[sid], vector)
        return again

    async def _make(self, index: HybridIndex, texts: dict[int, str]) -> dict[int, Vectors]:
        """The vectors of `texts`, as many as the model makes. When it fails on the batch, each
        text is tried alone; the texts it still fails on get a strike if it embeds a probe text
        after them. If it embeds nothing, the first failure is raised (the model, not a text)."""
        sids = list(texts)
        try:
            made = await self.embed(index, [texts[sid] for sid in sids])
        except Exception as exc:
            failure = exc
        else:
            return dict(zip(sids, made, strict=True))
        ready: dict[int, Vectors] = {}
        failed: dict[int, Exception] = {}
        for sid in sids:
            try:
                ready[sid] = (await self.embed(index, [texts[sid]]))[0]
            except Exception as alone:
                failed[sid] = alone
        if failed:
            # Does the model work now, after those failures? A text it has not seen (its cache
            # would answer for one it has). An outage strikes a text once at most, when it ends
            # between the text's failure and this probe.
            try:
                await self.embed(index, [f"{PROBE} {self._rng.getrandbits(64):x}"])
            except Exception:
                if not ready:
                    raise failure from None
                return ready
        for sid, why in failed.items():
            count = self._strikes.get(sid, (0, ""))[0] + 1
            self._strikes[sid] = (count, f"{type(why).__name__}: {why}")
        return ready

    async def _mark_set_aside(self, index: HybridIndex, sids: list[int]) -> None:
        """Store that the model cannot embed these texts (best effort: without the mark, a
        later start only tries them again)."""
        if not sids:
            return
        try:
            await self.vectors.save(
                index.model, [(sid, self.set_aside[sid], SET_ASIDE) for sid in sids]
            )
        except Exception as exc:
            log.warning("could not store that %d suggestions are set aside: %s", len(sids), exc)

    def _forgive(self, sid: int) -> None:
        """`sid` has its vector: its failures, if any, are forgotten."""
        self.set_aside.pop(sid, None)
        self._strikes.pop(sid, None)

    def _struck_out(self, sid: int, texts: dict[int, str]) -> bool:
        """Whether `sid`, which the model just failed on, is set aside now."""
        count, reason = self._strikes.get(sid, (0, ""))
        if count < STRIKES:
            return False
        del self._strikes[sid]
        self.set_aside[sid] = text_hash(texts[sid])
        log.error(
            "suggestion %d: the model fails on its text every time (%s); it is found by its "
            "words only until its text is edited",
            sid,
            reason,
        )
        self.on_set_aside(1)
        return True


def _nothing(count: int) -> None:
    pass


def _backoff(failures: int) -> float:
    return min(0.1 * 2**failures, 5.0)
