"""Optional sentence embeddings for duplicate search, from a model on local disk.

The default install finds duplicates with words and characters only. With the `semantic` extra
(`pip install 'fanloop[semantic]'`) and `dedup_model` pointing at a model2vec static-embedding
model saved in a local folder (`config.json`, `model.safetensors`, `tokenizer.json`), each
suggestion also gets a vector, and paraphrases that share few words are found too. Nothing is
downloaded: the folder must already be there.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
#: Token vectors read to find the model's main directions (see `projection`).
PROJECTION_SAMPLE = 50_000


class ModelError(Exception):
    """The configured model cannot be used; the message says why and what to do."""


class Embedder(Protocol):
    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text (a zero row for a text with no known token)."""

    def projection(self, k: int) -> Vectors | None:
        """A (dim, k) matrix onto the k main directions of the model's space, for a coarse
        first pass over many vectors; None when the vectors have k dimensions or fewer."""


class Model2VecEmbedder:
    """A model2vec `StaticModel`: a token-embedding table, mean-pooled. Fast on one core."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._dim = int(model.dim)
        self._bases: dict[int, Vectors] = {}

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        raw = np.asarray(
            self._model.encode(list(texts), use_multiprocessing=False), dtype=np.float32
        )
        return normalize(raw.reshape(len(texts), self._dim))

    def projection(self, k: int) -> Vectors | None:
        if self._dim <= k:
            return None
        basis = self._bases.get(k)
        if basis is None:
            # The main directions of the token table (a sample of it for a large vocabulary).
            table = np.asarray(self._model.embedding, dtype=np.float32)
            if len(table) > PROJECTION_SAMPLE:
                pick = np.random.default_rng(0).choice(len(table), PROJECTION_SAMPLE, False)
                table = table[pick]
            _, _, vt = np.linalg.svd(normalize(table), full_matrices=False)
            basis = self._bases[k] = np.ascontiguousarray(vt[:k].T, dtype=np.float32)
        return basis


def normalize(rows: Vectors) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


_loaded: dict[Path, Embedder] = {}
_lock = threading.Lock()


def load_embedder(path: str | Path) -> Embedder:
    """The model in `path`, loaded once per process and shared by every community's index."""
    folder = Path(path).expanduser().resolve()
    with _lock:
        cached = _loaded.get(folder)
        if cached is not None:
            return cached
        if not (folder / "config.json").is_file():
            raise ModelError(
                f"dedup_model: {folder} is not a model folder (no config.json); save a "
                "model2vec model there, e.g. StaticModel.save_pretrained(folder)"
            )
        try:
            from model2vec import StaticModel
        except ImportError:
            raise ModelError(
                "dedup_model is set but model2vec is not installed: pip install 'fanloop[semantic]'"
            ) from None
        try:
            model = StaticModel.from_pretrained(folder, force_download=False)
        except Exception as exc:  # a corrupt or foreign folder: say which and why
            raise ModelError(f"dedup_model: cannot load {folder}: {exc}") from None
        embedder = Model2VecEmbedder(model)
        _loaded[folder] = embedder
        return embedder
