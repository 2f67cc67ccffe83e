"""The `fanloop` command: run, console, migrate, and the benchmark and evaluation tools.

Each tool module exposes `register(subparsers)`; the subcommand's `func(args) -> int` runs it.
`fanloop bench NAME` collects benchmarks the same way (`register_bench(bench_subparsers)`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

TOOLS = [
    "bot.cli.run",
    "bot.cli.dedup",
    "bot.cli.drops",
    "bot.cli.participation",
]
BENCHES = [
    "bot.cli.dedup",
    "bot.cli.drops",
    "bot.cli.bench_telegram",
    "bot.cli.bench_discord",
    "bot.cli.bench_polls",
    "bot.cli.bench_votes",
    "bot.cli.bench_outbox",
    "bot.cli.participation",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fanloop", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="TOML configuration file (default: ./fanloop.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in TOOLS:
        module = _load(name)
        if module is not None and hasattr(module, "register"):
            module.register(sub)
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="bench", metavar="NAME", required=True)
    for name in BENCHES:
        module = _load(name)
        if module is not None and hasattr(module, "register_bench"):
            module.register_bench(bench_sub)
    return parser


def _load(name: str) -> object | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = parser.parse_args([*argv, "run"])
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
