"""The `fanloop` sub-commands that come with a development install.

`fanloop` loads every entry point of the `fanloop.commands` group (declared in
`devtools/pyproject.toml`) and calls it with its sub-command parsers; the entry point's name is
the sub-command it adds.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

BENCHES = [
    "devtools.bench.dedup",
    "devtools.bench.drops",
    "devtools.bench.telegram",
    "devtools.bench.discord",
    "devtools.bench.polls",
    "devtools.bench.votes",
    "devtools.bench.outbox",
    "devtools.bench.participation",
    "devtools.bench.cluster",
    "devtools.bench.web",
]


def register_bench(subparsers: Any) -> None:
    """`fanloop bench NAME`: every benchmark of `BENCHES`."""
    bench: argparse.ArgumentParser = subparsers.add_parser(
        "bench", help="benchmarks that print figures"
    )
    bench_sub = bench.add_subparsers(dest="bench", metavar="NAME", required=True)
    for name in BENCHES:
        importlib.import_module(name).register_bench(bench_sub)


def register_dedup_eval(subparsers: Any) -> None:
    """`fanloop dedup-eval`: duplicate search measured on a retrieval set."""
    from devtools.similarity.dedup_eval import register

    register(subparsers)
