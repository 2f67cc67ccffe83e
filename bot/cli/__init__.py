"""The `fanloop` command: run, console, web, migrate, backup; benchmarks and evaluation tools.

Each tool module exposes `register(subparsers)`; the subcommand's `func(args) -> int` runs it.
The benchmarks (`fanloop bench NAME`) and `fanloop dedup-eval` are development tools, kept out of
this package: a development install adds them through the `fanloop.commands` entry-point group,
whose entry points are called with the sub-command parsers like `register`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points
from typing import Any

from bot.cli.messages import schema_refusal
from storage.migrate import SchemaError

TOOLS = [
    "bot.cli.run",
    "bot.cli.migrate",
    "bot.cli.backup",
    "bot.cli.drops",
    "bot.cli.participation",
    "bot.cli.web",
]
#: Sub-commands that only a development install provides, and what they are for.
DEVELOPMENT_COMMANDS = {
    "bench": "benchmarks that print figures",
    "dedup-eval": "measure duplicate search on a retrieval set (R@1, R@5, MRR@10)",
}
COMMANDS_GROUP = "fanloop.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fanloop", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="TOML configuration file (default: ./fanloop.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in TOOLS:
        module = _load(name)
        if module is not None and hasattr(module, "register"):
            module.register(sub)
    added = _add_installed_commands(sub)
    for name, help_text in DEVELOPMENT_COMMANDS.items():
        if name not in added:
            _add_missing_command(sub, name, help_text)
    return parser


def _add_installed_commands(sub: Any) -> set[str]:
    """Add the sub-commands of the `fanloop.commands` entry points; returns their names."""
    added = set()
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        if entry.name in added:
            continue
        try:
            register = entry.load()
        except ModuleNotFoundError as exc:
            # Installed once, but its code is gone (a checkout without it): as if not installed.
            if exc.name and entry.module.startswith(exc.name):
                continue
            raise
        register(sub)
        added.add(entry.name)
    return added


def _add_missing_command(sub: Any, name: str, help_text: str) -> None:
    """A placeholder for a development command that is not installed: it says where it is."""
    p = sub.add_parser(name, help=f"{help_text} (development install only)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def missing(args: argparse.Namespace) -> int:
        print(
            f"fanloop {name}: this command comes with a development install of fanloop: "
            "run `make install` in a checkout (or `pip install -e ./devtools` beside it)",
            file=sys.stderr,
        )
        return 2

    p.set_defaults(func=missing)


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
    try:
        return int(func(args) or 0)
    except SchemaError as exc:  # any command that opened the App on a database not its version's
        return schema_refusal(exc)


if __name__ == "__main__":
    sys.exit(main())
