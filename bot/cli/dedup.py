"""`fanloop dedup-eval` (duplicate search on a retrieval set) and `fanloop bench dedup`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cogs.suggestions.similarity import LIKELY_DUPLICATE


def dedup_eval(args: argparse.Namespace) -> int:
    from cogs.suggestions.similarity.evaluate import evaluate

    try:
        report = evaluate(Path(args.corpus), Path(args.queries))
    except (OSError, ValueError) as exc:
        print(f"fanloop dedup-eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    print(f"queries:        {report.queries}")
    print(f"R@1:            {report.r1:.1f}")
    print(f"R@5:            {report.r5:.1f}")
    print(f"MRR@10:         {report.mrr10:.1f}")
    print(f"index build:    {report.build_s:.2f} s")
    print(f"query latency:  p50 {report.p50_ms:.2f} ms, p99 {report.p99_ms:.2f} ms")
    return 0


def bench_dedup(args: argparse.Namespace) -> int:
    from cogs.suggestions.similarity.bench import peak_rss_mb, run

    if args.size < 1 or args.queries < 1:
        print("fanloop bench dedup: --size and --queries must be positive", file=sys.stderr)
        return 2
    baseline_size = min(args.size, args.baseline_size)
    results = run(args.size, args.queries, baseline_size)
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
        if result.name != "engine" and result.size < args.size:
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
    p.set_defaults(func=dedup_eval)


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
    p.set_defaults(func=bench_dedup)
