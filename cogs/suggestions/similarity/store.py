"""The mutable inverted index behind `DedupIndex`: vocabulary, document frequencies, postings.

Every indexed text gets a slot. Postings are per-term `array.array`s of (slot, impact), so an add
is a few appends. The impact is the BM25 term-frequency part, length-normalised with the average
length at the time of the add; it only picks candidates, the final score reads exact statistics.
A removed document's slot is marked dead and its postings stay until more than half the slots are
dead; then everything is rebuilt from the live slots (amortised O(1) per change).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from itertools import chain, filterfalse

import numpy as np
import numpy.typing as npt

from cogs.suggestions.similarity.text import BIGRAM, kind_of

#: Weight of each term kind in every score. Character bigrams confirm word order but paraphrases
#: reorder words, so they count a quarter of single characters and words.
KIND_WEIGHT = {0: 1.0, 1: 1.0, BIGRAM: 0.1}

#: BM25 parameters, shared with the scorer.
K1 = 1.2
B = 0.75

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DEAD = -1
_COMPACT_MIN = 1024


class TermStore:
    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.vocab: dict[str, int] = {}
        self._kind_weight = array("d")
        self._df = array("i")
        self._post_slot: list[array[int]] = []
        self._post_impact: list[array[float]] = []
        self._slot_doc = array("q")
        self._slot_len = array("d")
        self.slot_terms: list[npt.NDArray[np.int32] | None] = []
        self.slot_tf: list[npt.NDArray[np.float64] | None] = []
        self.doc_slot: dict[int, int] = {}
        self.total_len = 0.0

    def __len__(self) -> int:
        return len(self.doc_slot)

    @property
    def slots(self) -> int:
        return len(self._slot_doc)

    def add(self, doc_id: int, tf: Mapping[str, float]) -> None:
        self.remove(doc_id)
        slot = len(self._slot_doc)
        ids = np.empty(len(tf), dtype=np.int32)
        tfs = np.empty(len(tf), dtype=np.float64)
        vocab = self.vocab
        length = float(sum(tf.values()))
        avgdl = (self.total_len + length) / (len(self.doc_slot) + 1)
        norm = K1 * (1 - B + B * length / avgdl) if length else K1
        for i, (term, count) in enumerate(tf.items()):
            tid = vocab.get(term)
            if tid is None:
                tid = vocab[term] = len(vocab)
                self._kind_weight.append(KIND_WEIGHT[kind_of(term)])
                self._df.append(0)
                self._post_slot.append(array("i"))
                self._post_impact.append(array("f"))
            self._df[tid] += 1
            self._post_slot[tid].append(slot)
            self._post_impact[tid].append(count * (K1 + 1) / (count + norm))
            ids[i] = tid
            tfs[i] = count
        self._slot_doc.append(doc_id)
        self._slot_len.append(length)
        self.slot_terms.append(ids)
        self.slot_tf.append(tfs)
        self.doc_slot[doc_id] = slot
        self.total_len += length

    def add_many(self, docs: Iterable[tuple[int, Mapping[str, float]]]) -> None:
        """`add` for many documents at once, with the same result as adding them one by one
        in order. New documents (a start reading a whole board) are added in one step, the
        per-term work done in numpy."""
        items = iter(docs)
        vocab = self.vocab
        first_new = len(vocab)
        known = vocab.__contains__
        doc_ids: list[int] = []
        seen: set[int] = set()
        tids = array("q")
        counts = array("d")
        sizes = array("q")
        rest: list[tuple[int, Mapping[str, float]]] = []
        # Read as they come (a board's term dicts are not all held at once) until a document
        # replaces one: from there on, one at a time, in order.
        for doc_id, tf in items:
            if doc_id in seen or doc_id in self.doc_slot:
                rest.append((doc_id, tf))
                break
            seen.add(doc_id)
            doc_ids.append(doc_id)
            for term in filterfalse(known, tf):
                vocab[term] = len(vocab)
            tids.extend(map(vocab.__getitem__, tf))
            counts.extend(tf.values())
            sizes.append(len(tf))
        if doc_ids:
            self._add_new(doc_ids, first_new, tids, counts, sizes)
        for doc_id, tf in chain(rest, items):
            self.add(doc_id, tf)

    def _add_new(
        self,
        doc_ids: list[int],
        first_new: int,
        tids: array[int],
        counts: array[float],
        doc_sizes: array[int],
    ) -> None:
        """Index documents not indexed yet, whose terms (vocabulary ids from `first_new` on
        new) and counts are given flat, `doc_sizes` per document."""
        vocab = self.vocab
        sizes = np.frombuffer(doc_sizes, dtype=np.int64)
        new_terms = list(vocab)[first_new:]
        if new_terms:
            self._kind_weight.extend(KIND_WEIGHT[kind_of(term)] for term in new_terms)
            self._df.extend(array("i", bytes(4 * len(new_terms))))
            self._post_slot.extend(array("i") for _ in new_terms)
            self._post_impact.extend(array("f") for _ in new_terms)

        tid = np.frombuffer(tids, dtype=np.int64)
        tf_all = np.frombuffer(counts, dtype=np.float64)
        first_slot = len(self._slot_doc)
        doc_of = np.repeat(np.arange(len(doc_ids), dtype=np.int64), sizes)
        ends = np.cumsum(sizes)
        length = np.bincount(doc_of, weights=tf_all, minlength=len(doc_ids))
        # The average length each document saw when it was added, as one `add` at a time.
        before = len(self.doc_slot)
        avgdl = (self.total_len + np.cumsum(length)) / (before + np.arange(1, len(doc_ids) + 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            norm = np.where(length > 0, K1 * (1 - B + B * length / avgdl), K1)
        impact = (tf_all * (K1 + 1) / (tf_all + norm[doc_of])).astype(np.float32)

        df = np.frombuffer(self._df, dtype=np.int32)
        df += np.bincount(tid, minlength=len(df)).astype(np.int32)
        del df
        order = np.argsort(tid, kind="stable")  # within a term, in slot order
        sorted_tid = tid[order]
        slot_bytes = (doc_of[order] + first_slot).astype(np.int32)
        impact_sorted = impact[order]
        if len(sorted_tid):
            bounds = np.flatnonzero(np.diff(sorted_tid)) + 1
            lo = np.concatenate([[0], bounds]).tolist()
            hi = np.concatenate([bounds, [len(sorted_tid)]]).tolist()
            for t, a, b in zip(sorted_tid[lo].tolist(), lo, hi, strict=True):
                self._post_slot[t].frombytes(slot_bytes[a:b].tobytes())
                self._post_impact[t].frombytes(impact_sorted[a:b].tobytes())

        ids32 = tid.astype(np.int32)
        spans = list(zip((ends - sizes).tolist(), ends.tolist(), strict=True))
        self.slot_terms.extend([ids32[a:b] for a, b in spans])
        self.slot_tf.extend([tf_all[a:b] for a, b in spans])
        self._slot_doc.extend(doc_ids)
        self._slot_len.frombytes(length.astype(np.float64).tobytes())
        self.doc_slot.update(
            zip(doc_ids, range(first_slot, first_slot + len(doc_ids)), strict=True)
        )
        self.total_len += float(length.sum())

    def remove(self, doc_id: int) -> None:
        slot = self.doc_slot.pop(doc_id, None)
        if slot is None:
            return
        ids = self.slot_terms[slot]
        assert ids is not None
        for tid in ids.tolist():
            self._df[tid] -= 1
        self.total_len -= self._slot_len[slot]
        self._slot_doc[slot] = _DEAD
        self.slot_terms[slot] = None
        self.slot_tf[slot] = None
        dead = len(self._slot_doc) - len(self.doc_slot)
        if dead > _COMPACT_MIN and dead > len(self.doc_slot):
            self._compact()

    def _compact(self) -> None:
        live = [
            (int(doc), ids, tfs)
            for doc, ids, tfs in zip(self._slot_doc, self.slot_terms, self.slot_tf, strict=True)
            if ids is not None and tfs is not None
        ]
        terms = list(self.vocab)
        self._reset()
        self.add_many(
            (doc, dict(zip((terms[t] for t in ids.tolist()), tfs.tolist(), strict=True)))
            for doc, ids, tfs in live
        )

    # Read side: numpy copies, so no view pins the growable arrays.

    def lookup(
        self, tf: Mapping[str, float]
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """Known term ids with their query tf, plus the kind weight and tf of unknown terms."""
        known: list[int] = []
        known_tf: list[float] = []
        unknown_w: list[float] = []
        unknown_tf: list[float] = []
        for term, count in tf.items():
            tid = self.vocab.get(term)
            if tid is not None and self._df[tid] > 0:
                known.append(tid)
                known_tf.append(count)
            else:
                unknown_w.append(KIND_WEIGHT[kind_of(term)])
                unknown_tf.append(count)
        return (
            np.array(known, dtype=np.int64),
            np.array(known_tf, dtype=np.float64),
            np.array(unknown_w, dtype=np.float64),
            np.array(unknown_tf, dtype=np.float64),
        )

    def df(self, ids: IntArray) -> FloatArray:
        return np.frombuffer(self._df, dtype=np.int32)[ids].astype(np.float64)

    def kind_weight(self, ids: IntArray) -> FloatArray:
        return np.frombuffer(self._kind_weight, dtype=np.float64)[ids]

    def postings(self, ids: IntArray) -> tuple[IntArray, FloatArray, IntArray]:
        """Concatenated (slots, impacts) of the given terms, and how many postings each has."""
        slot_parts = [np.frombuffer(self._post_slot[t], dtype=np.int32) for t in ids.tolist()]
        tf_parts = [np.frombuffer(self._post_impact[t], dtype=np.float32) for t in ids.tolist()]
        counts = np.array([len(p) for p in slot_parts], dtype=np.int64)
        if not slot_parts:
            return np.empty(0, np.int64), np.empty(0, np.float64), counts
        return (
            np.concatenate(slot_parts).astype(np.int64),
            np.concatenate(tf_parts).astype(np.float64),
            counts,
        )

    def lengths(self, slots: IntArray) -> FloatArray:
        return np.frombuffer(self._slot_len, dtype=np.float64)[slots]

    def dead_mask(self) -> npt.NDArray[np.bool_]:
        return np.frombuffer(self._slot_doc, dtype=np.int64) == _DEAD

    def doc_of(self, slots: IntArray) -> list[int]:
        return np.frombuffer(self._slot_doc, dtype=np.int64)[slots].tolist()
