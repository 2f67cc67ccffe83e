"""`fanloop run` and `fanloop console` (`fanloop migrate` is in bot.cli.migrate)."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import tempfile
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from bot.cli import logs
from bot.cli.messages import schema_refusal
from bot.core import runtime
from bot.core.app import App
from bot.core.clock import Clock, FakeClock, SystemClock
from bot.core.commands import EARLIEST, LATEST
from config.settings import ConfigError, FanloopSettings, load_settings, unknown_settings
from storage.migrate import SchemaError


def _settings(args: argparse.Namespace, **overrides: Any) -> FanloopSettings:
    path = getattr(args, "config", None)
    try:
        settings = load_settings(path, **overrides)
    except ConfigError as exc:
        print(f"fanloop: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    for warning in unknown_settings(path):
        print(f"fanloop: warning: {warning}", file=sys.stderr)
    problem = _missing_cogs(settings) or (
        _data_dir_problem(settings) if settings.database_url is None else None
    )
    if problem:
        print(f"fanloop: {problem}", file=sys.stderr)
        raise SystemExit(2)
    if settings.dedup_model is not None:
        from cogs.suggestions.similarity.semantic import ModelError, load_embedder

        try:
            load_embedder(settings.dedup_model)
        except ModelError as exc:
            print(f"fanloop: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _missing_cogs(settings: FanloopSettings) -> str | None:
    """What is wrong with the `cogs` setting: a name that is no module."""
    for name in settings.cogs:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # its package is missing, or the name is malformed
            found = False
        if not found:
            return f"cogs: there is no module {name!r} (check FANLOOP_COGS or `cogs` in the file)"
    return None


def _data_dir_problem(settings: FanloopSettings) -> str | None:
    """Why the data folder (the SQLite database, console files) cannot be written, if it cannot."""
    folder = settings.data_dir.expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"data_dir: cannot write to {folder}: {exc.strerror or exc}"
    return None


def start_time(text: str) -> datetime:
    """`--start`: an ISO 8601 time (UTC unless it says otherwise) in the range the bot plans in."""
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-20T09:00)"
        ) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    try:
        in_range = EARLIEST <= start.astimezone(UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range: from {EARLIEST.date()} to before {LATEST.date()}"
        )
    return start


def _clock(args: argparse.Namespace) -> Clock:
    if getattr(args, "clock", "system") == "fake":
        return FakeClock(args.start or datetime.now(UTC))
    return SystemClock()


def console(args: argparse.Namespace) -> int:
    overrides = {"database_url": args.db} if args.db else {}
    settings = _settings(args, **overrides)
    if problem := _data_dir_problem(settings):  # console files go there too
        print(f"fanloop: {problem}", file=sys.stderr)
        return 2
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    return _until_interrupted(_console(settings, args), settings)


def _until_interrupted(main: Coroutine[Any, Any, int], settings: FanloopSettings) -> int:
    """Run `main`; Ctrl-C stops it (its clean-up runs) with the usual exit status, 130. A
    database whose schema is not this version's stops it with one line (bot.cli.messages)."""
    try:
        return runtime.run(main)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except SchemaError as exc:
        return schema_refusal(exc, settings.default_locale)


async def _console(settings: FanloopSettings, args: argparse.Namespace) -> int:
    from bot.adapters.console.adapter import ConsoleAdapter
    from bot.adapters.console.repl import run_console
    from bot.core.scheduler import Scheduler

    clock = _clock(args)
    app = await App.create(settings, clock)
    app.start_feed()
    scheduler = (
        None if isinstance(clock, FakeClock) else Scheduler(app, settings.scheduler_tick_seconds)
    )
    if scheduler:
        scheduler.start()
    try:
        await run_console(ConsoleAdapter(app), as_json=args.json)
    finally:
        if scheduler:
            await scheduler.stop()
        await app.close()
    return 0


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.platforms:
        args.db, args.json, args.clock, args.start = None, False, "system", None
        return _until_interrupted(_console(settings, args), settings)
    if problem := _data_dir_problem(settings):
        print(f"fanloop: {problem}", file=sys.stderr)
        return 2
    from bot.platforms import ListenError, serve_platforms, unreachable

    try:
        return _until_interrupted(serve_platforms(settings), settings)
    except ListenError as exc:
        print(f"fanloop: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        cause = unreachable(exc)
        if cause is None:
            raise
        print(
            f"fanloop: cannot reach {', '.join(settings.platforms)}: {cause} (check the network "
            "and the *_api_base / *_base_url settings)",
            file=sys.stderr,
        )
        return 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="start the configured platforms (the console when none is)")
    p.set_defaults(func=run, verbose=True)

    c = sub.add_parser("console", help="a local terminal chat with every command")
    c.add_argument("--db", help="database URL (default: the configured one)")
    c.add_argument("--json", action="store_true", help="one JSON object per output event")
    c.add_argument("--clock", choices=("system", "fake"), default="system")
    c.add_argument(
        "--start",
        type=start_time,
        help="start time of the fake clock (ISO 8601, from 2000 to before 2100)",
    )
    c.add_argument("--verbose", action="store_true", help="show log messages")
    c.set_defaults(func=console)
