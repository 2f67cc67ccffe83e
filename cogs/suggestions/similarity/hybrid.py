"""`HybridIndex`: the lexical `DedupIndex` plus sentence embeddings, for the `semantic` extra.

Candidates come from both sides: the lexical shortlist (BM25) and the nearest vectors. Every
candidate is then scored exactly, both ways.

**Per-language normalisation.** A multilingual model places two unrelated texts of one language
closer (cosine 0.87-0.93 with e5) than a request and its translation (0.82-0.86): every vector
of a language shares a part, the language's mean direction, that says nothing about the request.
So each vector loses its language's mean before the two are compared (the means are exact and
cheap: running sums per language), and the cosine of what is left is read against its expected
value for two unrelated texts, `mu`:

    semantic = clip((cos(q - mean[lang(q)], d - mean[lang(d)]) - mu) / (1 - mu), 0, 1)

which is 1 for the same text and 0 for a typical unrelated one, in either language. (With a
model whose vectors add a one-language part, `usem3+bge`, two texts of different languages
compare only their shared parts: see `semantic.Layout`.) A language
with few suggestions has a poorly known mean, so its mean is shrunk toward zero as if
`PRIOR_DOCS` zero vectors were there too; `mu` then goes from the model's `baseline` (an empty
board: nothing is centred) to 0 (a large one: unrelated texts are centred to 0 on average).
The nearest-vector pass ranks by the query-side half of this (the raw cosine minus the query's
mean cosine to the language, over one minus it), which needs no per-row work.

**Blend.** For a candidate in the query's language the score is
`(1 - weight) * lexical + weight * semantic`, and never less than `floor * semantic`; across
languages, where words cannot match, the score is `semantic` alone (or the blend, when shared
words such as product names make it higher). The floor is for a post that says the same in other
words: with no word in common the blend gives it `weight * semantic` (0.35 of it), below a post
that shares one incidental word ("app", "phone"), so it was seldom listed; `floor * semantic`
(0.55 of it) lists it without moving the posts whose words match. Identical texts score 1.0,
unrelated texts near 0, so the cut-offs keep their meaning.

**Vectors may come later.** `put(doc, text, None)` indexes the words now and the vector when it
is ready (`set_vector`): a suggestion waiting for its vector is still found by its words.

The nearest vectors are found by one pass over every row in a reduced space (the board's
`COARSE_DIM` main directions, fitted once the board has `PROJECT_AT` vectors and again each
time it has doubled since, so the space follows what the board is about), then scored exactly
from float16 rows: a quarter (and a half) of the memory of full float32 vectors. A model with
no more than `COARSE_DIM` dimensions is read whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import numpy.typing as npt

from cogs.suggestions.similarity.dedup_index import SHORTLIST, DedupIndex
from cogs.suggestions.similarity.semantic import Embedder, Vectors, layout
from cogs.suggestions.similarity.text import LANGUAGES, language

#: Share of the semantic score in the final score of a same-language candidate (measured on the
#: dev sets: 0.3-0.45 is a plateau; see docs/dedup.md).
DEFAULT_WEIGHT = 0.35
#: A same-language candidate scores at least this share of its semantic score (its meaning
#: alone, as a candidate in the other language is scored by its meaning alone): the highest of
#: the shares tried that leaves every dev set's figures at least as good (see docs/dedup.md).
PARAPHRASE_FLOOR = 0.55
#: Nearest vectors (by normalised coarse score) added to the lexical shortlist.
SEMANTIC_SHORTLIST = 64
#: Dimensions of the reduced space for the first pass over all vectors.
COARSE_DIM = 128
#: The reduced space is fitted (PCA of a sample) once the board has this many vectors, and
#: fitted again each time the board has grown by REFIT_GROWTH since.
PROJECT_AT = 2048
REFIT_GROWTH = 2.0
PROJECT_SAMPLE = 8192
#: Weight of the model's `baseline` in `mu`, in suggestions, and the zero vectors a language's
#: mean is shrunk with: a language with few suggestions on the board is barely centred and
#: normalised mostly by the baseline.
PRIOR_DOCS = 20
_EPSILON = 1e-6
_FLOAT16_SLACK = 1e-3
#: Rows converted to float32 at a time when the reduced space is filled.
_BLOCK = 8192


def _matvec(rows: Vectors, vector: Vectors) -> Vectors:
    """rows @ vector on this thread. (`@` hands a large product to the BLAS library's own
    threads, which on a busy machine wait for a core: 30-70 ms of wall-clock for 1-8 ms of
    work, measured with the load average at 12 on 2 cores.)"""
    return np.einsum("ij,j->i", rows, vector)


def _blas_on_this_thread() -> AbstractContextManager[object]:
    """Keep the BLAS library to the calling thread for a moment. Its own threads wait for a
    core on a busy machine: the fit of a 100,000-suggestion board took 4 s of wall-clock with
    them (the load average at 6 on 2 cores) and 0.45 s without. (`threadpoolctl` comes with the
    semantic extra; without it the fit runs as the library is set.)"""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


class VectorStore:
    """Growable float16 rows of unit vectors keyed by document id, each tagged with its
    language; removed rows are reused. Keeps per-language sums for the normalisation."""

    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._rows = np.zeros((64, dim), dtype=np.float16)
        self._lang = np.zeros(64, dtype=np.int8)
        self._doc = np.full(64, -1, dtype=np.int64)
        # What the first pass reads once the reduced space is fitted: each row's (v - mean) in
        # it. Until then the first pass reads the rows themselves.
        self._coarse: Vectors | None = None
        self._projection: Vectors | None = None
        # Dimensions of the reduced space; 0: the model is small enough to be read whole.
        self._coarse_dim = COARSE_DIM if dim > COARSE_DIM else 0
        self._fitted = 0  # vectors on the board when the reduced space was last fitted
        self._mean: Vectors = np.zeros(dim, dtype=np.float32)
        self._row_of: dict[int, int] = {}
        self._free: list[int] = []
        self._used = 0
        self.sums = np.zeros((LANGUAGES, dim), dtype=np.float64)
        self.counts = np.zeros(LANGUAGES, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, doc_id: int) -> bool:
        return doc_id in self._row_of

    def put(self, doc_id: int, vector: Vectors, lang: int) -> None:
        self.put_many([doc_id], vector.reshape(1, -1), np.array([lang], dtype=np.int8))

    def put_many(
        self, doc_ids: Sequence[int], vectors: Vectors, langs: npt.NDArray[np.int8]
    ) -> None:
        """Store several rows at once (a start reads a whole board)."""
        for doc_id in doc_ids:
            if doc_id in self._row_of:
                self.drop(doc_id)
        rows = self._take(len(doc_ids))
        self._row_of.update(zip(doc_ids, rows.tolist(), strict=True))
        stored = vectors.astype(np.float16, copy=False)
        self._rows[rows] = stored
        self._lang[rows] = langs
        self._doc[rows] = doc_ids
        for lang in range(LANGUAGES):
            mine = langs == lang
            self.sums[lang] += stored[mine].sum(axis=0, dtype=np.float64)
            self.counts[lang] += int(mine.sum())
        if self._coarse_dim and len(self._row_of) >= max(PROJECT_AT, REFIT_GROWTH * self._fitted):
            self._fit()
        elif self._coarse is not None and self._projection is not None:
            for start in range(0, len(rows), _BLOCK):
                block = stored[start : start + _BLOCK].astype(np.float32) - self._mean
                self._coarse[rows[start : start + _BLOCK]] = block @ self._projection

    def drop(self, doc_id: int) -> None:
        row = self._row_of.pop(doc_id, None)
        if row is None:
            return
        lang = int(self._lang[row])
        self.sums[lang] -= self._rows[row].astype(np.float64)
        self.counts[lang] -= 1
        self._rows[row] = 0.0
        self._doc[row] = -1
        if self._coarse is not None:
            self._coarse[row] = 0.0
        self._free.append(row)

    def vector(self, doc_id: int) -> Vectors | None:
        row = self._row_of.get(doc_id)
        return None if row is None else self._rows[row].astype(np.float32)

    def nearest(
        self, vector: Vectors, mu: Vectors, top: Vectors, size: int, exclude: set[int]
    ) -> list[int]:
        """The `size` rows with the best normalised (approximate) semantic score: a row's
        cosine read from `mu` (an unrelated text's) to `top` (the same text's), per language."""
        size = min(size, len(self._row_of))
        if size <= 0:
            return []
        used = self._used
        if self._coarse is not None and self._projection is not None:
            approx = _matvec(self._coarse[:used], vector @ self._projection)
            approx += float(self._mean @ vector)
        else:
            approx = _matvec(self._rows[:used].astype(np.float32), vector)
        langs = self._lang[:used]
        scores = (approx - mu[langs]) / np.maximum(top[langs] - mu[langs], _EPSILON)
        scores[self._doc[:used] < 0] = -np.inf
        for doc in exclude:
            row = self._row_of.get(doc)
            if row is not None:
                scores[row] = -np.inf
        best = np.argpartition(-scores, size - 1)[:size]
        return [int(d) for d, s in zip(self._doc[best], scores[best], strict=True) if s > 0.0]

    def rows(self, doc_ids: Sequence[int]) -> tuple[Vectors, npt.NDArray[np.int8]]:
        """The documents' vectors (float32) and languages."""
        rows = [self._row_of[d] for d in doc_ids]
        return self._rows[rows].astype(np.float32), self._lang[rows]

    def centres(self) -> Vectors:
        """Each language's mean vector, shrunk toward zero as if `PRIOR_DOCS` zero vectors
        were on the board too (a language with few suggestions is barely centred)."""
        return (self.sums / (self.counts + PRIOR_DOCS)[:, None]).astype(np.float32)

    def _fit(self) -> None:
        """Fit the reduced space on (a sample of) the rows there are now."""
        with _blas_on_this_thread():
            self._fit_now()

    def _fit_now(self) -> None:
        live = np.flatnonzero(self._doc[: self._used] >= 0)
        if len(live) > PROJECT_SAMPLE:
            live = np.sort(np.random.default_rng(0).choice(live, PROJECT_SAMPLE, replace=False))
        sample = self._rows[live].astype(np.float64)
        self._mean = sample.mean(axis=0).astype(np.float32)
        centred = sample - sample.mean(axis=0)
        # The main directions: eigenvectors of the (dim x dim) covariance, largest first.
        _, vectors = np.linalg.eigh(centred.T @ centred)
        top = vectors[:, ::-1][:, : self._coarse_dim]
        self._projection = np.ascontiguousarray(top, dtype=np.float32)
        self._fitted = len(self._row_of)
        # Rows hold (v - mean) in the reduced space; a query adds mean . q back.
        coarse = np.zeros((len(self._rows), self._coarse_dim), dtype=np.float32)
        for start in range(0, self._used, _BLOCK):
            block = self._rows[start : self._used][:_BLOCK].astype(np.float32) - self._mean
            coarse[start : start + len(block)] = block @ self._projection
        coarse[self._doc < 0] = 0.0
        self._coarse = coarse

    def _take(self, count: int) -> npt.NDArray[np.int64]:
        """`count` free rows: removed rows first, then new ones (grown once)."""
        reused = [self._free.pop() for _ in range(min(count, len(self._free)))]
        fresh = count - len(reused)
        if self._used + fresh > len(self._rows):
            self._grow(self._used + fresh)
        new = np.arange(self._used, self._used + fresh, dtype=np.int64)
        self._used += fresh
        return np.concatenate([np.array(reused, dtype=np.int64), new])

    def _grow(self, needed: int) -> None:
        # Doubling, so rows added one by one cost O(1) each; a board read at once (a start)
        # gets exactly its size.
        size = max(needed, 2 * len(self._rows))
        extra = size - len(self._rows)
        self._rows = np.concatenate([self._rows, np.zeros((extra, self._dim), np.float16)])
        self._lang = np.concatenate([self._lang, np.zeros(extra, dtype=np.int8)])
        self._doc = np.concatenate([self._doc, np.full(extra, -1, dtype=np.int64)])
        if self._coarse is not None:
            self._coarse = np.concatenate(
                [self._coarse, np.zeros((extra, self._coarse_dim), dtype=np.float32)]
            )


class HybridIndex:
    """A `SimilarityIndex` that adds an embedding model's view to the lexical engine."""

    def __init__(
        self, embedder: Embedder, weight: float = DEFAULT_WEIGHT, floor: float = PARAPHRASE_FLOOR
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError("weight must be between 0 and 1")
        if not 0.0 <= floor <= 1.0:
            raise ValueError("floor must be between 0 and 1")
        self.embedder = embedder
        self._layout = layout(embedder)
        self._weight = weight
        self._floor = floor
        self._lexical = DedupIndex()
        self._vectors = VectorStore(embedder.dim)
        self._lang: dict[int, int] = {}
        self._text: dict[int, int] = {}  # hash of each document's text

    def __len__(self) -> int:
        return len(self._lexical)

    @property
    def model(self) -> str:
        return self.embedder.name

    @property
    def words(self) -> DedupIndex:
        """The lexical side alone (when the model cannot be used for a moment)."""
        return self._lexical

    def add(self, doc_id: int, text: str) -> None:
        self.add_many([(doc_id, text)])

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        """Index several documents with one call to the model (a rebuild on start)."""
        batch = list(docs)
        vectors = self.embedder.encode([text for _, text in batch])
        for (doc_id, text), vector in zip(batch, vectors, strict=True):
            self.put(doc_id, text, vector)

    def put(self, doc_id: int, text: str, vector: Vectors | None) -> None:
        """Index `text` now; its vector now too, or later through `set_vector`."""
        self._lexical.add(doc_id, text)
        lang = self._lang[doc_id] = language(text)
        self._text[doc_id] = hash(text)
        if vector is None:
            self._vectors.drop(doc_id)
        else:
            self._vectors.put(doc_id, vector, lang)

    def put_many(
        self,
        docs: Sequence[tuple[int, str]],
        vectors: Vectors | None = None,
        with_vector: Sequence[bool] | None = None,
    ) -> None:
        """`put` for many documents at once (a start reads a whole board). `vectors` holds a
        row for each document whose `with_vector` is true, in order; the others wait for
        `set_vector`. A document given twice keeps its last text."""
        if with_vector is None:
            with_vector = [vectors is not None] * len(docs)
        at = np.cumsum(with_vector) - 1  # each document's row in `vectors`
        if len({doc_id for doc_id, _ in docs}) < len(docs):
            for i, (doc_id, text) in enumerate(docs):  # in order, the last text stays
                self.put(
                    doc_id, text, vectors[at[i]] if with_vector[i] and vectors is not None else None
                )
            return
        # The words in a second thread meanwhile: their index is Python (it holds the GIL),
        # the vectors' mostly numpy steps that let it go, so on a large board (a start) the
        # two overlap. They share nothing.
        with ThreadPoolExecutor(1, thread_name_prefix="index-words") as words:
            done = words.submit(self._lexical.add_many, docs)
            self._put_vectors(docs, vectors, with_vector)  # leaving waits for the words
        done.result()  # their error, if any

    def _put_vectors(
        self,
        docs: Sequence[tuple[int, str]],
        vectors: Vectors | None,
        with_vector: Sequence[bool],
    ) -> None:
        stored: list[int] = []
        langs: list[int] = []
        for (doc_id, text), has in zip(docs, with_vector, strict=True):
            lang = self._lang[doc_id] = language(text)
            self._text[doc_id] = hash(text)
            if has:
                stored.append(doc_id)
                langs.append(lang)
            else:
                self._vectors.drop(doc_id)
        if stored and vectors is not None:
            self._vectors.put_many(stored, vectors, np.array(langs, dtype=np.int8))

    def set_vector(self, doc_id: int, text: str, vector: Vectors) -> bool:
        """Give an indexed document the vector of `text`; False when the document is not
        indexed (any more) or its text is now another."""
        lang = self._lang.get(doc_id)
        if lang is None or self._text.get(doc_id) != hash(text):
            return False
        self._vectors.put(doc_id, vector, lang)
        return True

    def missing(self) -> list[int]:
        """Indexed documents still waiting for a vector."""
        return [d for d in self._lang if d not in self._vectors]

    def remove(self, doc_id: int) -> None:
        self._lexical.remove(doc_id)
        self._vectors.drop(doc_id)
        self._lang.pop(doc_id, None)
        self._text.pop(doc_id, None)

    def query(self, text: str, k: int = 5, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        if k <= 0 or len(self) == 0:
            return []
        return self.query_vector(text, self.embedder.encode([text])[0], k, exclude)

    def query_vector(
        self, text: str, vector: Vectors, k: int = 5, exclude: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """`query` with the text's vector already made (off the event loop, say)."""
        if k <= 0 or len(self) == 0:
            return []
        excluded = set(exclude)
        lang = language(text)
        mu, top = self._mu(vector, lang)
        near = self._vectors.nearest(vector, mu, top, SEMANTIC_SHORTLIST, excluded)
        lexical = dict(self._lexical.scored(text, SHORTLIST, excluded, also=near))
        docs = sorted(set(lexical) | set(near))
        if not docs:
            return []
        lex = np.array([lexical.get(d, 0.0) for d in docs])
        with_vector = [d in self._vectors for d in docs]
        sem = np.zeros(len(docs))
        cross = np.zeros(len(docs), dtype=bool)
        have = [d for d, ok in zip(docs, with_vector, strict=True) if ok]
        if have:
            rows, langs = self._vectors.rows(have)
            at = np.flatnonzero(with_vector)
            sem[at] = self._semantic(vector, lang, rows, langs)
            cross[at] = langs != lang
        w = self._weight
        blend = (1.0 - w) * lex + w * sem
        # A document without its vector yet is scored by its words alone.
        blend = np.where(with_vector, blend, lex)
        # Across languages the meaning alone; in the query's language at least `floor` of it.
        # Weight 0 is the lexical engine alone, in every language.
        alone = np.where(cross, sem, self._floor * sem)
        score = np.maximum(blend, alone) if w > 0 else blend
        hits = [(d, float(s)) for d, s in zip(docs, score.tolist(), strict=True) if s > _EPSILON]
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]

    def _semantic(
        self, vector: Vectors, lang: int, rows: Vectors, langs: npt.NDArray[np.int8]
    ) -> Vectors:
        """The semantic score of each row for the query `vector` (in language `lang`): the
        cosine of the two vectors once each has lost its language's mean, read against its
        expected value for an unrelated text (see the module's docstring)."""
        if float(vector @ vector) < _EPSILON:  # no known token: the model says nothing
            return np.zeros(len(rows), dtype=np.float32)
        centres = self._vectors.centres()
        query = vector - centres[lang]
        docs = rows - centres[langs]
        cos = _cosines(docs, query)
        cross = langs != lang
        shared = self._layout.shared_dim
        if shared < len(vector) and cross.any():
            # Across languages only the multilingual parts compare (see `Layout`).
            cos[cross] = _cosines(docs[cross, :shared], query[:shared])
        # float16 rows: the same text comes back at 0.9995 or so; it is the same text.
        cos = np.where(_matvec(rows, vector) >= 1.0 - _FLOAT16_SLACK, 1.0, cos)
        # A stored text with no known token has a zero row: it is like nothing.
        cos = np.where(np.einsum("ij,ij->i", rows, rows) < _EPSILON, 0.0, cos)
        same = self._centred_mu(np.array(self._layout.baselines))
        other = self._centred_mu(np.full(LANGUAGES, self._layout.shared_baseline))
        m = np.where(cross, other[langs], same[langs])
        return np.clip((cos - m) / (1.0 - m), 0.0, 1.0).astype(np.float32)

    def _centred_mu(self, baselines: npt.NDArray[np.float64]) -> Vectors:
        """The expected centred cosine of two unrelated texts, per language. With the model's
        `baseline` b as their cosine, as the squared length of the language's mean and as each
        text's cosine to it, a mean shrunk by s = n / (n + PRIOR_DOCS) leaves
        b (1 - s)^2 / (1 - 2 s b + s^2 b): b on an empty board, 0 on a large one."""
        store = self._vectors
        s = store.counts / (store.counts + PRIOR_DOCS)
        b = np.clip(baselines, 0.0, 0.99)
        mu = b * (1.0 - s) ** 2 / (1.0 - 2.0 * s * b + s * s * b)
        return np.clip(mu, 0.0, 0.99).astype(np.float32)

    def _mu(self, vector: Vectors, lang: int) -> tuple[Vectors, Vectors]:
        """What the nearest-vector pass reads a row's raw cosine against, per language of the
        row: the query's expected cosine to an unrelated suggestion, and to the same text (1 in
        the query's language; across languages, where only the shared parts compare, the
        product of their lengths)."""
        store = self._vectors
        shape = self._layout
        norms = np.array(shape.shared_norms)
        top = norms * norms[lang]
        top[lang] = 1.0
        prior = np.where(
            np.arange(LANGUAGES) == lang, shape.baselines[lang], shape.shared_baseline * top
        )
        mu = (store.sums @ vector.astype(np.float64) + prior * PRIOR_DOCS) / (
            store.counts + PRIOR_DOCS
        )
        return np.clip(mu, 0.0, 0.99).astype(np.float32), top.astype(np.float32)


def _cosines(rows: Vectors, vector: Vectors) -> Vectors:
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows)) * float(np.linalg.norm(vector))
    return _matvec(rows, vector) / np.maximum(norms, _EPSILON)
