"""Finding similar suggestions, behind one small interface.

`SimilarityIndex` is what the suggestion service uses: per community, incremental (add, update,
remove) and rebuilt from the database on start. `make_index()` picks the implementation: the
lexical engine, or with a local embedding model (the `semantic` extra) the hybrid one.

Scores are 1.0 for the same text and fall with the share of weighted terms the two texts do not
have in common (see docs/dedup.md). `LIKELY_DUPLICATE` and `RELATED` are the suggested cut-offs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

#: Show as "likely duplicate" (offer "+1 that one", list in the duplicates digest) from here.
#: Short paraphrased questions score 0.6-0.95; unrelated texts that share a word stay below 0.3.
LIKELY_DUPLICATE = 0.5
#: Worth listing among "similar suggestions" (related, not necessarily the same request).
RELATED = 0.25


class SimilarityIndex(Protocol):
    def add(self, doc_id: int, text: str) -> None:
        """Index (or re-index, when the id is known) one document."""

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        """Index several documents (a rebuild): the same as `add` for each, maybe faster."""

    def remove(self, doc_id: int) -> None:
        """Forget a document; unknown ids are ignored."""

    def query(self, text: str, k: int = 5, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        """The k most similar documents as (id, score), best first; scores in [0, 1]."""

    def __len__(self) -> int: ...


def make_index(
    model: str | Path | None = None, weight: float | None = None, floor: float | None = None
) -> SimilarityIndex:
    """The lexical engine, or with `model` (a name in `semantic.BUILTIN` or a model2vec folder)
    the hybrid one (`weight` and `floor`: `HybridIndex`'s, its defaults when None)."""
    if model is None:
        from cogs.suggestions.similarity.dedup_index import DedupIndex

        return DedupIndex()
    from cogs.suggestions.similarity.hybrid import DEFAULT_WEIGHT, PARAPHRASE_FLOOR, HybridIndex
    from cogs.suggestions.similarity.semantic import load_embedder

    return HybridIndex(
        load_embedder(model),
        DEFAULT_WEIGHT if weight is None else weight,
        PARAPHRASE_FLOOR if floor is None else floor,
    )
