"""`fanloop dedup-eval` (duplicate search on a retrieval set) and `fanloop bench dedup`."""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cogs.suggestions.similarity import LIKELY_DUPLICATE, SimilarityIndex, make_index

if TYPE_CHECKING:
    from cogs.suggestions.similarity.evaluate import Query, Report


def _factory(args: argparse.Namespace, command: str) -> Callable[[], SimilarityIndex] | None:
    """The index to measure: the lexical engine, or the hybrid one with --model."""
    if args.model is None:
        return make_index
    from cogs.suggestions.similarity.semantic import ModelError

    try:
        make_index(args.model, args.semantic_weight)
    except (ModelError, ValueError) as exc:
        print(f"fanloop {command}: {exc}", file=sys.stderr)
        return None
    return lambda: make_index(args.model, args.semantic_weight)


def dedup_eval(args: argparse.Namespace) -> int:
    from cogs.suggestions.similarity.evaluate import load, run

    factory = _factory(args, "dedup-eval")
    if factory is None:
        return 2
    try:
        docs, queries = load(Path(args.corpus), Path(args.queries))
    except (OSError, ValueError) as exc:
        print(f"fanloop dedup-eval: {exc}", file=sys.stderr)
        return 2
    report = run(docs, queries, factory)
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    if args.misses:
        _print_misses(report, dict(docs), {q.doc_id: q for q in queries}, args.misses, args.seed)
    print(f"queries:        {report.queries}")
    print(f"R@1:            {report.r1:.1f}")
    print(f"R@5:            {report.r5:.1f}")
    print(f"MRR@10:         {report.mrr10:.1f}")
    print(f"index build:    {report.build_s:.2f} s")
    print(f"query latency:  p50 {report.p50_ms:.2f} ms, p99 {report.p99_ms:.2f} ms")
    return 0


def _print_misses(
    report: Report, text: dict[int, str], queries: dict[int, Query], count: int, seed: int
) -> None:
    """A reproducible sample of the queries whose first result is not a listed duplicate."""
    sample = random.Random(seed).sample(report.misses, min(count, len(report.misses)))
    print(f"{len(sample)} of {len(report.misses)} misses at rank 1 (seed {seed}):")
    for miss in sample:
        rank = "not in the top 10" if miss.rank is None else f"at rank {miss.rank}"
        first = "(nothing)" if miss.first is None else text[miss.first]
        labelled = sorted(queries[miss.query].duplicates)[:3]
        print(f"- query:    {_one_line(text[miss.query])}")
        print(f"  first:    {_one_line(first)}")
        for dup in labelled:
            print(f"  labelled: {_one_line(text[dup])}")
        print(f"  (the first labelled duplicate is {rank})")
    print()


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def bench_dedup(args: argparse.Namespace) -> int:
    from cogs.suggestions.similarity.bench import peak_rss_mb, run

    if args.size < 1 or args.queries < 1:
        print("fanloop bench dedup: --size and --queries must be positive", file=sys.stderr)
        return 2
    factory = _factory(args, "bench dedup")
    if factory is None:
        return 2
    baseline_size = min(args.size, args.baseline_size)
    name = "engine" if args.model is None else "hybrid"
    results = run(args.size, args.queries, baseline_size, factory, name)
    payload: dict[str, Any] = {
        "engine": results[0].as_dict(),
        "baseline": results[1].as_dict(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "likely_duplicate": LIKELY_DUPLICATE,
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
        print(f"  build:           {result.build_s:.2f} s")
        print(
            f"  query latency:   p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
            f"max {result.max_ms:.2f} ms (CPU p99 {result.cpu_p99_ms:.2f} ms)"
        )
        if result.rss_mb is not None:
            print(f"  index memory:    {result.rss_mb:.1f} MB RSS growth")
    print(f"peak RSS of the run: {payload['peak_rss_mb']:.1f} MB")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "dedup-eval", help="measure duplicate search on a retrieval set (R@1, R@5, MRR@10)"
    )
    p.add_argument("--corpus", required=True, help="corpus.jsonl: one {id, text} per line")
    p.add_argument(
        "--queries", required=True, help="queries.jsonl: one {id, text, duplicates} per line"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--misses", type=int, default=0, metavar="N", help="first print N sampled rank-1 misses"
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the --misses sample")
    _model_args(p)
    p.set_defaults(func=dedup_eval)


def _model_args(p: Any) -> None:
    p.add_argument("--model", type=Path, help="a local model2vec folder: measure the hybrid index")
    p.add_argument(
        "--semantic-weight",
        type=float,
        default=0.5,
        help="share of the embedding cosine in the hybrid score (default 0.5)",
    )


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
    _model_args(p)
    p.set_defaults(func=bench_dedup)
