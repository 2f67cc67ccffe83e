"""A real model wrapped for the tests that watch what it embeds."""

from __future__ import annotations

from collections.abc import Sequence

from cogs.suggestions.similarity.semantic import Embedder, Layout, Vectors, layout


class Counting:
    """The real model, counting the texts it embeds, under a name of our choosing."""

    def __init__(self, model: Embedder, name: str) -> None:
        self.model, self._name, self.embedded = model, name, 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def baseline(self) -> float:
        return self.model.baseline

    @property
    def layout(self) -> Layout:
        return layout(self.model)

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return self.model.encode([t + " " for t in texts])  # past the model's own cache
