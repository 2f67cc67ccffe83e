"""`fanloop bench polls`: four-grid ballots per second through the service, time to compute the
results and render the chart, peak memory. By default at MIUI scale: 100,000 fans, 10 items."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def bench(args: argparse.Namespace) -> int:
    from cogs.weekly.bench import run, summary

    if args.members < 1 or args.items < 1 or args.concurrency < 1 or args.sample < 0:
        print("fanloop bench polls: sizes must be positive", file=sys.stderr)
        return 2
    if args.items > 25:
        print("fanloop bench polls: a release holds at most 25 items", file=sys.stderr)
        return 2
    stats = asyncio.run(
        run(
            url=args.db,
            members=args.members,
            items=args.items,
            concurrency=args.concurrency,
            sample=args.sample,
        )
    )
    print(json.dumps(stats, ensure_ascii=False) if args.json else summary(stats))
    ok = stats["ballots_stored"] == stats["ballots"] and stats["results_agree"]
    return 0 if ok else 1


def register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("polls", help="four-grid report: ballots/s, results and chart time, memory")
    p.add_argument("--members", type=int, default=100_000, help="fans who fill in the report")
    p.add_argument("--items", type=int, default=10, help="items in the release (at most 25)")
    p.add_argument("--concurrency", type=int, default=256, help="button presses in flight")
    p.add_argument(
        "--sample", type=int, default=2_000, help="ballots for the one-transaction baseline"
    )
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=bench)
