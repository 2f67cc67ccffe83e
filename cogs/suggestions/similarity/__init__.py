"""Finding similar suggestions, behind one small interface.

`SimilarityIndex` is what the suggestion service uses: per community, incremental (add, update,
remove) and rebuilt from the database on start. `make_index()` picks the implementation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class SimilarityIndex(Protocol):
    def add(self, doc_id: int, text: str) -> None:
        """Index (or re-index, when the id is known) one document."""

    def remove(self, doc_id: int) -> None:
        """Forget a document; unknown ids are ignored."""

    def query(
        self, text: str, k: int = 5, exclude: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """The k most similar documents as (id, score), best first; scores in [0, 1]."""

    def __len__(self) -> int: ...


def make_index() -> SimilarityIndex:
    from cogs.suggestions.similarity.lexical import LexicalIndex

    return LexicalIndex()
