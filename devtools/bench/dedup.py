"""`fanloop bench dedup`: build and query timings of a similarity index on a synthetic board."""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from cogs.suggestions.similarity import LIKELY_DUPLICATE, SimilarityIndex, make_index
from cogs.suggestions.similarity.lexical import LexicalIndex
from devtools.similarity.dedup_eval import add_model_args, index_factory
from devtools.similarity.evaluate import percentile
from devtools.similarity.synthetic import board, suggestion


@dataclass(frozen=True)
class BenchResult:
    name: str
    size: int
    queries: int
    build_s: float
    load_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_p99_ms: float
    rss_mb: float | None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {
            "name": self.name,
            "size": self.size,
            "queries": self.queries,
            "build_s": round(self.build_s, 3),
            "load_s": round(self.load_s, 3),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "cpu_p99_ms": round(self.cpu_p99_ms, 3),
            "rss_mb": None if self.rss_mb is None else round(self.rss_mb, 1),
        }


def _queries(texts: list[str], count: int, seed: int) -> list[str]:
    """Half new suggestions, half edited copies of indexed ones (the duplicates to find)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 2:
            out.append(suggestion(rng))
        else:
            text = rng.choice(texts)
            cut = rng.randint(0, max(0, len(text) // 4))
            out.append(text[cut:] + rng.choice(("", "?", "！", " please", "，谢谢")))
    return out


def measure(
    name: str,
    factory: Callable[[], SimilarityIndex],
    size: int,
    queries: int,
    seed: int = 7,
    track_memory: bool = True,
) -> BenchResult:
    """Index `size` synthetic suggestions, then time `queries` top-5 look-ups one by one.

    Memory is the RSS growth of the process; it is only meaningful for the first index built in
    a process (later ones reuse memory the allocator kept), so later runs pass `track_memory=False`.
    """
    texts = list(board(size, seed))
    qs = _queries(texts, queries, seed + 1)
    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    index = factory()
    start = time.perf_counter()
    for doc_id, text in enumerate(texts):
        index.add(doc_id, text)
    build_s = time.perf_counter() - start
    rss_index = process.memory_info().rss - rss_before
    wall: list[float] = []
    cpu: list[float] = []
    for text in qs:
        w0, c0 = time.perf_counter(), time.thread_time()
        index.query(text, k=5)
        cpu.append((time.thread_time() - c0) * 1000.0)
        wall.append((time.perf_counter() - w0) * 1000.0)
    rss_mb = max(rss_index, process.memory_info().rss - rss_before) / 2**20
    del index
    # A start reads the whole board at once (`add_many`), not one post at a time.
    fresh = factory()
    start = time.perf_counter()
    fresh.add_many(enumerate(texts))
    load_s = time.perf_counter() - start
    del fresh
    return BenchResult(
        name=name,
        size=size,
        queries=len(qs),
        build_s=build_s,
        load_s=load_s,
        p50_ms=percentile(wall, 0.50),
        p99_ms=percentile(wall, 0.99),
        max_ms=max(wall, default=0.0),
        cpu_p99_ms=percentile(cpu, 0.99),
        rss_mb=rss_mb if track_memory else None,
    )


def run(
    size: int,
    queries: int,
    baseline_size: int,
    factory: Callable[[], SimilarityIndex] = make_index,
    name: str = "engine",
) -> list[BenchResult]:
    """The engine at `size`, then the lexical placeholder at `baseline_size` for comparison."""
    results = [measure(name, factory, size, queries)]
    gc.collect()
    baseline_queries = max(1, min(queries, 500))
    results.append(
        measure(
            "lexical-baseline", LexicalIndex, baseline_size, baseline_queries, track_memory=False
        )
    )
    return results


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (psutil; falls back to the current RSS)."""
    info = psutil.Process().memory_info()
    peak = getattr(info, "peak_wset", None)
    if peak is None:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return float(peak) / 2**20


def bench_dedup(args: argparse.Namespace) -> int:
    if args.size < 1 or args.queries < 1:
        print("fanloop bench dedup: --size and --queries must be positive", file=sys.stderr)
        return 2
    factory = index_factory(args, "bench dedup")
    if factory is None:
        return 2
    baseline_size = min(args.size, args.baseline_size)
    semantic = None
    if args.model is not None:
        from cogs.suggestions.similarity.semantic import load_embedder
        from devtools.bench.dedup_semantic import measure_semantic

        texts = list(board(args.size, 7))
        queries = _queries(texts, args.queries, 8)
        sample = args.size if args.embed_all else args.embed_sample
        semantic = measure_semantic(load_embedder(args.model), texts, queries, sample, db=args.db)
        del texts
        gc.collect()
    results = run(args.size, args.queries, baseline_size, make_index, "engine")
    payload: dict[str, Any] = {
        "engine": results[0].as_dict(),
        "baseline": results[1].as_dict(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "likely_duplicate": LIKELY_DUPLICATE,
    }
    if semantic is not None:
        payload["semantic"] = {
            k: round(v, 3) if isinstance(v, float) else v for k, v in semantic.items()
        }
    if args.json:
        print(json.dumps(payload))
        return 0
    for result in results:
        note = ""
        if result.name == "lexical-baseline" and result.size < args.size:
            note = f" (run on {result.size:,} texts, not {args.size:,}: it is too slow)"
        print(f"{result.name}{note}")
        print(f"  texts indexed:   {result.size:,}, queries: {result.queries:,}")
        print(
            f"  build:           {result.build_s:.2f} s one post at a time, "
            f"{result.load_s:.2f} s at once (as a start reads the board)"
        )
        print(
            f"  query latency:   p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
            f"max {result.max_ms:.2f} ms (CPU p99 {result.cpu_p99_ms:.2f} ms)"
        )
        if result.rss_mb is not None:
            print(f"  index memory:    {result.rss_mb:.1f} MB RSS growth")
    if semantic is not None:
        s = semantic
        print(f"semantic ({s['model']})")
        print(
            f"  embedding:       {s['embed_cpu_ms_per_suggestion']:.1f} ms CPU per suggestion "
            f"({s['embed_wall_ms_per_suggestion']:.1f} ms wall), {s['embedded']:,} embedded"
            + ("" if s["embedded"] == s["size"] else ", the rest stand-ins")
        )
        print(
            f"  start-up:        {s['startup_s']:.2f} s ({s['startup_cpu_s']:.2f} s CPU) to read "
            f"{s['size']:,} suggestions with their stored vectors, "
            f"{s['startup_rss_mb']:.1f} MB RSS growth; the event loop held up to "
            f"{s['startup_loop_held_ms']:,.0f} ms at a time meanwhile"
        )
        print(
            f"  query latency:   p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, "
            f"max {s['max_ms']:.2f} ms, embedding the query included "
            f"(CPU p50 {s['cpu_p50_ms']:.2f} ms, p99 {s['cpu_p99_ms']:.2f} ms; of which the "
            f"model p50 {s['embed_cpu_p50_ms']:.2f} ms, p99 {s['embed_cpu_p99_ms']:.2f} ms)"
        )
    print(f"peak RSS of the run: {payload['peak_rss_mb']:.1f} MB")
    return 0


def register_bench(bench_subparsers: Any) -> None:
    p = bench_subparsers.add_parser(
        "dedup", help="similarity index build and query latency on a synthetic board"
    )
    p.add_argument("--size", type=int, default=100_000, help="suggestions to index")
    p.add_argument("--queries", type=int, default=3_000, help="look-ups to time")
    p.add_argument(
        "--baseline-size",
        type=int,
        default=10_000,
        help="texts for the naive baseline (capped at --size)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--embed-sample",
        type=int,
        default=1_000,
        help="with --model: suggestions embedded for real (the rest get stand-in vectors)",
    )
    p.add_argument("--embed-all", action="store_true", help="with --model: embed every one")
    p.add_argument(
        "--db",
        help="with --model: database the start-up reads (default: a temporary SQLite file; "
        "PostgreSQL: a new schema, dropped after)",
    )
    add_model_args(p)
    p.set_defaults(func=bench_dedup)
