"""`DedupIndex`: BM25 candidate search, then a symmetric similarity in [0, 1] over the shortlist.

Stage 1 scores every indexed suggestion that shares a term with the query (BM25, vectorised over
the posting lists) and keeps the best `SHORTLIST`. Stage 2 scores the shortlist with four lexical
similarities that see the pair from both sides, and averages them:

- BM25 of the query against the candidate, over the query's BM25 against itself (how much of the
  query the candidate covers);
- the same the other way round (how much of the candidate the query covers);
- cosine of the two sublinear TF-IDF vectors;
- weighted Jaccard (sum of minima over sum of maxima of the term weights, weighted by sqrt IDF).

Each part is 1 for identical texts, so the average is too, and a fixed threshold means the same
thing for short and long suggestions. Statistics (document frequencies, average length) are read
at query time, so the index is exact after any sequence of adds and removes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from cogs.suggestions.similarity.store import K1, B, FloatArray, IntArray, TermStore
from cogs.suggestions.similarity.text import terms

SHORTLIST = 64
#: IDF is computed as if the board had at least this many suggestions: on a new board with a
#: handful of posts every shared word would otherwise look common and every new word rare.
MIN_BOARD = 100
JACCARD_IDF_POWER = 0.5
#: Stage 1 reads at most this many postings (the query's rarest terms first).
POSTING_BUDGET = 100_000
#: Weights of (query coverage, candidate coverage, cosine, weighted Jaccard).
SIGNAL_WEIGHTS = (1.0, 0.0, 1.0, 1.0)


def _idf(df: FloatArray, n: int) -> FloatArray:
    return np.log1p((max(n, MIN_BOARD) - df + 0.5) / (df + 0.5))


def _sat(tf: FloatArray, dl: FloatArray | float, avgdl: float) -> FloatArray:
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * np.asarray(dl) / avgdl))


def _sublinear(tf: FloatArray) -> FloatArray:
    return 1.0 + np.log(np.maximum(tf, 1.0))


class DedupIndex:
    """Incremental duplicate finder for one community's suggestions."""

    def __init__(self) -> None:
        self._store = TermStore()

    def __len__(self) -> int:
        return len(self._store)

    def add(self, doc_id: int, text: str) -> None:
        self._store.add(doc_id, terms(text))

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        self._store.add_many((doc_id, terms(text)) for doc_id, text in docs)

    def remove(self, doc_id: int) -> None:
        self._store.remove(doc_id)

    def query(self, text: str, k: int = 5, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        hits = self.scored(text, SHORTLIST, exclude)
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]

    def scored(
        self, text: str, size: int, exclude: Iterable[int] = (), also: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """The best `size` candidates by BM25, plus the indexed documents in `also`, each with
        its similarity to `text`; unordered. Excluded documents never appear."""
        store = self._store
        if len(store) == 0:
            return []
        q_ids, q_tf, unk_w, unk_tf = store.lookup(terms(text))
        if len(q_ids) == 0:
            return []
        excluded = set(exclude)
        skip = [s for s in (store.doc_slot.get(d) for d in excluded) if s is not None]
        slots = self._shortlist(q_ids, q_tf * self._weight(q_ids), skip, size)
        extra = [
            s for s in (store.doc_slot.get(d) for d in also if d not in excluded) if s is not None
        ]
        if extra:
            slots = np.union1d(slots, np.array(extra, dtype=np.int64))
        if len(slots) == 0:
            return []
        avgdl = store.total_len / len(store)
        scores = self._similarity(slots, q_ids, q_tf, unk_w, unk_tf, avgdl)
        docs = store.doc_of(slots)
        return [(doc, float(s)) for doc, s in zip(docs, scores.tolist(), strict=True)]

    def _weight(self, q_ids: IntArray) -> FloatArray:
        store = self._store
        return store.kind_weight(q_ids) * _idf(store.df(q_ids), len(store))

    def _shortlist(
        self, q_ids: IntArray, q_weight: FloatArray, skip: list[int], size: int
    ) -> IntArray:
        store = self._store
        df = store.df(q_ids)
        # Rarest terms first, within a postings budget (and at least the rarest term).
        order = np.argsort(df, kind="stable")
        within = np.cumsum(df[order]) <= POSTING_BUDGET
        within[0] = True
        q_ids, q_weight = q_ids[order[within]], q_weight[order[within]]
        slots, impacts, counts = store.postings(q_ids)
        contrib = np.repeat(q_weight, counts) * impacts
        scores = np.bincount(slots, weights=contrib, minlength=store.slots)
        scores[store.dead_mask()] = 0.0
        scores[skip] = 0.0
        hits = np.flatnonzero(scores > 0.0)
        if len(hits) > size:
            hits = hits[np.argpartition(-scores[hits], size)[:size]]
        return hits

    def _similarity(
        self,
        slots: IntArray,
        q_ids: IntArray,
        q_tf: FloatArray,
        unk_w: FloatArray,
        unk_tf: FloatArray,
        avgdl: float,
    ) -> FloatArray:
        store = self._store
        n, m = len(store), len(slots)
        parts = [store.slot_terms[s] for s in slots.tolist()]
        tf_parts = [store.slot_tf[s] for s in slots.tolist()]
        ids = np.concatenate([p for p in parts if p is not None]).astype(np.int64)
        tf = np.concatenate([p for p in tf_parts if p is not None])
        seg = np.repeat(np.arange(m), [len(p) for p in parts if p is not None])
        dl = store.lengths(slots)[seg]
        w = store.kind_weight(ids)
        idf = _idf(store.df(ids), n)

        order = np.argsort(q_ids)
        pos = np.minimum(np.searchsorted(q_ids[order], ids), len(order) - 1)
        matched = q_ids[order][pos] == ids
        qtf = np.where(matched, q_tf[order][pos], 0.0)

        # The query's own terms, unknown ones included (they have the largest IDF).
        all_w = np.concatenate([store.kind_weight(q_ids), unk_w])
        all_idf = np.concatenate([_idf(store.df(q_ids), n), _idf(np.zeros(len(unk_w)), n)])
        all_tf = np.concatenate([q_tf, unk_tf])
        q_len = float(all_tf.sum())

        def per_doc(values: FloatArray) -> FloatArray:
            return np.asarray(np.bincount(seg, weights=values, minlength=m), dtype=np.float64)

        bm = w * idf
        cover_q = per_doc(bm * qtf * _sat(tf, dl, avgdl))
        q_self = float((all_w * all_idf * all_tf * _sat(all_tf, q_len, avgdl)).sum())
        cover_d = per_doc(bm * tf * np.where(matched, _sat(qtf, q_len, avgdl), 0.0))
        d_self = per_doc(bm * tf * _sat(tf, dl, avgdl))

        u_d = bm * _sublinear(tf)
        u_q = np.where(matched, bm * _sublinear(qtf), 0.0)
        q_norm = float(np.sqrt(((all_w * all_idf * _sublinear(all_tf)) ** 2).sum()))
        cosine = per_doc(u_d * u_q) / (np.sqrt(per_doc(u_d * u_d)) * q_norm)

        jw = w * idf**JACCARD_IDF_POWER
        inter = per_doc(jw * np.minimum(tf, qtf))
        q_mass = float((all_w * all_idf**JACCARD_IDF_POWER * all_tf).sum())
        jaccard = inter / (q_mass + per_doc(jw * tf) - inter)

        signals = (
            np.minimum(cover_q / q_self, 1.0),
            np.minimum(cover_d / d_self, 1.0),
            np.minimum(cosine, 1.0),
            jaccard,
        )
        total = sum(wt * s for wt, s in zip(SIGNAL_WEIGHTS, signals, strict=True))
        return np.clip(total / sum(SIGNAL_WEIGHTS), 0.0, 1.0)
