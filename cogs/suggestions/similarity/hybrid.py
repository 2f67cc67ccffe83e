"""`HybridIndex`: the lexical `DedupIndex` plus sentence embeddings, for the `semantic` extra.

Candidates come from both sides: the lexical shortlist (BM25) and the nearest vectors. The
nearest vectors are found by a dot product over every live suggestion in a reduced space (the
model's `COARSE_DIM` main directions), which reads a quarter of the memory of full 256-dimension
vectors; every candidate is then scored exactly, both ways, and the final score is

    (1 - weight) * lexical + weight * max(0, cosine)

so identical texts still score 1.0 and the cut-offs keep their meaning for near-copies, while a
paraphrase with few shared words gains from the embedding. Adds, edits and removals are
incremental on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from cogs.suggestions.similarity.dedup_index import SHORTLIST, DedupIndex
from cogs.suggestions.similarity.semantic import Embedder, Vectors

#: Share of the embedding cosine in the final score.
DEFAULT_WEIGHT = 0.5
#: Nearest vectors (in the reduced space) added to the lexical shortlist.
SEMANTIC_SHORTLIST = 48
#: Dimensions of the reduced space for the first pass over all vectors.
COARSE_DIM = 64
#: Cosines below this are rounding noise of orthogonal vectors, not similarity.
_EPSILON = 1e-6


class VectorStore:
    """Growable rows of unit vectors keyed by document id; removed rows are reused. With a
    projection, each row also has a reduced copy that the nearest-vector search reads."""

    def __init__(self, dim: int, projection: Vectors | None = None) -> None:
        self._rows: Vectors = np.zeros((64, dim), dtype=np.float32)
        self._projection = projection
        self._coarse: Vectors = (
            self._rows if projection is None else np.zeros((64, projection.shape[1]), np.float32)
        )
        self._doc = np.full(64, -1, dtype=np.int64)
        self._row_of: dict[int, int] = {}
        self._free: list[int] = []
        self._used = 0

    def __len__(self) -> int:
        return len(self._row_of)

    def put(self, doc_id: int, vector: Vectors) -> None:
        row = self._row_of.get(doc_id)
        if row is None:
            row = self._free.pop() if self._free else self._grow()
            self._row_of[doc_id] = row
        self._rows[row] = vector
        if self._projection is not None:
            self._coarse[row] = vector @ self._projection
        self._doc[row] = doc_id

    def drop(self, doc_id: int) -> None:
        row = self._row_of.pop(doc_id, None)
        if row is not None:
            self._rows[row] = 0.0
            self._coarse[row] = 0.0
            self._free.append(row)

    def nearest(self, vector: Vectors, size: int, exclude: set[int]) -> list[int]:
        if self._projection is not None:
            vector = vector @ self._projection
        # Removed rows are zero, so they score 0 and fall under _EPSILON below.
        scores = self._coarse[: self._used] @ vector
        for doc in exclude:
            row = self._row_of.get(doc)
            if row is not None:
                scores[row] = -np.inf
        size = min(size, len(self._row_of))
        if size <= 0:
            return []
        best = np.argpartition(-scores, size - 1)[:size]
        return [int(d) for d, s in zip(self._doc[best], scores[best], strict=True) if s > _EPSILON]

    def cosine(self, vector: Vectors, doc_ids: list[int]) -> list[float]:
        rows = [self._row_of[d] for d in doc_ids]
        return (self._rows[rows] @ vector).clip(0.0, 1.0).tolist()

    def _grow(self) -> int:
        if self._used == len(self._rows):
            extra = len(self._rows)
            self._rows = np.vstack([self._rows, np.zeros_like(self._rows)])
            if self._projection is None:
                self._coarse = self._rows
            else:
                self._coarse = np.vstack([self._coarse, np.zeros_like(self._coarse)])
            self._doc = np.concatenate([self._doc, np.full(extra, -1, dtype=np.int64)])
        self._used += 1
        return self._used - 1


class HybridIndex:
    """A `SimilarityIndex` that adds an embedding model's view to the lexical engine."""

    def __init__(self, embedder: Embedder, weight: float = DEFAULT_WEIGHT) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError("weight must be between 0 and 1")
        self._embedder = embedder
        self._weight = weight
        self._lexical = DedupIndex()
        self._vectors = VectorStore(embedder.dim, embedder.projection(COARSE_DIM))

    def __len__(self) -> int:
        return len(self._lexical)

    def add(self, doc_id: int, text: str) -> None:
        self.add_many([(doc_id, text)])

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        """Index several documents with one call to the model (a rebuild on start)."""
        batch = list(docs)
        vectors = self._embedder.encode([text for _, text in batch])
        for (doc_id, text), vector in zip(batch, vectors, strict=True):
            self._lexical.add(doc_id, text)
            self._vectors.put(doc_id, vector)

    def remove(self, doc_id: int) -> None:
        self._lexical.remove(doc_id)
        self._vectors.drop(doc_id)

    def query(self, text: str, k: int = 5, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        if k <= 0 or len(self) == 0:
            return []
        excluded = set(exclude)
        vector = self._embedder.encode([text])[0]
        near = self._vectors.nearest(vector, SEMANTIC_SHORTLIST, excluded)
        lexical = dict(self._lexical.scored(text, SHORTLIST, excluded, also=near))
        docs = sorted(set(lexical) | set(near))
        if not docs:
            return []
        w = self._weight
        cos = self._vectors.cosine(vector, docs)
        hits = [(d, (1 - w) * lexical.get(d, 0.0) + w * c) for d, c in zip(docs, cos, strict=True)]
        hits = [hit for hit in hits if hit[1] > _EPSILON]
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]
