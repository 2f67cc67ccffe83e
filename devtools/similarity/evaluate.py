"""Measuring a similarity index on a duplicate-retrieval set.

A set is two JSON-lines files: the corpus (`{"id": ..., "text": ...}` per line) and the queries
(`{"id": ..., "text": ..., "duplicates": [...]}`). Each query is itself in the corpus and is
excluded from its own results. Per query, R@k is 1 when any listed duplicate is in the top k and
MRR@10 is 1/rank of the first one within the top 10; both are averaged and given in percent.
`shown` is what a member sees: the share of queries with a listed duplicate among the first
`SHOWN` results at `RELATED` or above, as the "is it one of these?" step lists them;
`others_shown` the mean number of other posts listed with them (the noise a member reads past;
on sets with incomplete labels, an upper bound).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cogs.suggestions.similarity import RELATED, SimilarityIndex, make_index
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import Vectors, text_hash


@dataclass(frozen=True)
class Query:
    doc_id: int
    text: str
    duplicates: frozenset[int]


@dataclass(frozen=True)
class Miss:
    """A query whose first result is not a listed duplicate (for reading the failures)."""

    query: int
    first: int | None
    rank: int | None  # of the first listed duplicate within the top 10


@dataclass(frozen=True)
class Report:
    r1: float
    r5: float
    mrr10: float
    build_s: float
    p50_ms: float
    p99_ms: float
    queries: int
    misses: tuple[Miss, ...] = ()
    #: With a model: the time to embed one query (a sample of them), and the model's name.
    embed_p50_ms: float | None = None
    embed_p99_ms: float | None = None
    model: str | None = None
    #: Percent of queries with a listed duplicate shown at submission (see the module's doc).
    shown: float = 0.0
    others_shown: float = 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "r1": round(self.r1, 2),
            "r5": round(self.r5, 2),
            "mrr10": round(self.mrr10, 2),
            "shown": round(self.shown, 2),
            "others_shown": round(self.others_shown, 3),
            "build_s": round(self.build_s, 3),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "queries": self.queries,
            **(
                {}
                if self.model is None
                else {
                    "model": self.model,
                    "embed_p50_ms": round(self.embed_p50_ms or 0.0, 3),
                    "embed_p99_ms": round(self.embed_p99_ms or 0.0, 3),
                }
            ),
        }


def _lines(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row, dict) or "id" not in row or "text" not in row:
                    raise ValueError(f"{path}:{number}: expected an object with id and text")
                yield row


def load(corpus: Path, queries: Path) -> tuple[list[tuple[int, str]], list[Query]]:
    """Read a retrieval set; string ids become consecutive integers in corpus order."""
    ids: dict[str, int] = {}
    docs: list[tuple[int, str]] = []
    for row in _lines(corpus):
        key = str(row["id"])
        ids.setdefault(key, len(ids))
        docs.append((ids[key], str(row["text"])))
    qs: list[Query] = []
    for row in _lines(queries):
        key = str(row["id"])
        dups = row.get("duplicates", [])
        if key not in ids or not isinstance(dups, list):
            raise ValueError(f"{queries}: query {key} must be in the corpus and list duplicates")
        known = frozenset(ids[str(d)] for d in dups if str(d) in ids)
        qs.append(Query(ids[key], str(row["text"]), known))
    return docs, qs


def read_corpus(path: Path) -> list[str]:
    """The texts of a corpus.jsonl, in order."""
    return [str(row["text"]) for row in _lines(path)]


def ranks(results: Sequence[int], duplicates: frozenset[int]) -> int | None:
    """1-based rank of the first duplicate in `results`, or None."""
    for rank, doc in enumerate(results, 1):
        if doc in duplicates:
            return rank
    return None


def metrics(rankings: Sequence[int | None]) -> tuple[float, float, float]:
    """(R@1, R@5, MRR@10) in percent from the rank of each query's first duplicate."""
    if not rankings:
        return 0.0, 0.0, 0.0
    n = len(rankings)
    r1 = sum(1 for r in rankings if r is not None and r <= 1)
    r5 = sum(1 for r in rankings if r is not None and r <= 5)
    mrr = sum(1.0 / r for r in rankings if r is not None and r <= 10)
    return 100.0 * r1 / n, 100.0 * r5 / n, 100.0 * mrr / n


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def run(
    docs: Sequence[tuple[int, str]],
    queries: Sequence[Query],
    factory: Callable[[], SimilarityIndex] = make_index,
    vector_cache: Path | None = None,
) -> Report:
    """Build an index over `docs`, run every query against it and measure.

    With a model (a `HybridIndex`), every distinct text is embedded once (or read from
    `vector_cache`) and a query reuses its text's vector; the time to embed a query is
    measured apart, on a sample of `EMBED_SAMPLE` queries, and reported beside the latency.
    """
    index = factory()
    start = time.perf_counter()
    vectors: dict[str, Vectors] = {}
    if isinstance(index, HybridIndex):
        texts = list(dict.fromkeys([t for _, t in docs] + [q.text for q in queries]))
        vectors = dict(zip(texts, embed_all(index, texts, vector_cache), strict=True))
        for doc_id, text in docs:
            index.put(doc_id, text, vectors[text])
    else:
        index.add_many(docs)
    build_s = time.perf_counter() - start
    found: list[int | None] = []
    shown = others = 0
    latencies: list[float] = []
    misses: list[Miss] = []
    for q in queries:
        start = time.perf_counter()
        if isinstance(index, HybridIndex):
            hits = index.query_vector(q.text, vectors[q.text], k=10, exclude=(q.doc_id,))
        else:
            hits = index.query(q.text, k=10, exclude=(q.doc_id,))
        latencies.append((time.perf_counter() - start) * 1000.0)
        rank = ranks([doc for doc, _ in hits], q.duplicates)
        found.append(rank)
        listed = [doc for doc, score in hits[:SHOWN] if score >= RELATED]
        shown += any(doc in q.duplicates for doc in listed)
        others += sum(doc not in q.duplicates for doc in listed)
        if rank != 1:
            misses.append(Miss(q.doc_id, hits[0][0] if hits else None, rank))
    r1, r5, mrr10 = metrics(found)
    return Report(
        r1=r1,
        r5=r5,
        mrr10=mrr10,
        shown=100.0 * shown / len(queries) if queries else 0.0,
        others_shown=others / len(queries) if queries else 0.0,
        build_s=build_s,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        queries=len(queries),
        misses=tuple(misses),
        **(_embed_times(index, queries) if isinstance(index, HybridIndex) else {}),
    )


#: Results the "is it one of these?" step lists (`SuggestionService.similar`'s `k`).
SHOWN = 3
#: Queries embedded one by one to time the model.
EMBED_SAMPLE = 200


def _embed_times(index: HybridIndex, queries: Sequence[Query]) -> dict[str, Any]:
    times = []
    for q in queries[:EMBED_SAMPLE]:
        start = time.thread_time()
        index.embedder.encode([q.text + " "])  # not the cached text: the model runs
        times.append((time.thread_time() - start) * 1000.0)
    return {
        "embed_p50_ms": percentile(times, 0.5),
        "embed_p99_ms": percentile(times, 0.99),
        "model": index.model,
    }


def embed_all(index: HybridIndex, texts: list[str], cache: Path | None = None) -> Vectors:
    """The vectors of `texts`, from `cache` (an .npy file) when it was made for the same
    model and texts as the model reads them (`text_hash`), else embedded in batches (and saved
    there)."""
    read = [text_hash(text) for text in texts]
    digest = hashlib.sha256("\0".join([index.model, *read]).encode()).hexdigest()[:16]
    path = None if cache is None else cache.with_name(f"{cache.stem}-{digest}.npy")
    if path is not None and path.is_file():
        return np.load(path)
    out = np.vstack(
        [index.embedder.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)]
        or [np.zeros((0, index.embedder.dim), np.float32)]
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


def evaluate(
    corpus: Path, queries: Path, factory: Callable[[], SimilarityIndex] = make_index
) -> Report:
    docs, qs = load(corpus, queries)
    return run(docs, qs, factory)
