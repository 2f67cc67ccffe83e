"""`fanloop backup`: a consistent copy of the database while the bot runs.

SQLite: the online backup API, into `--to` (default `<data_dir>/backups/fanloop-<UTC time>.db`).
PostgreSQL: the `pg_dump` command to run and how to restore it; `--pg-dump` runs it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.cli.messages import say
from bot.cli.run import _settings
from storage.backup import BackupError, backup_sqlite, pg_dump_command, sqlite_path
from storage.engine import default_sqlite_url, normalize_url


def _default_file(data_dir: Path, suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return data_dir.expanduser() / "backups" / f"fanloop-{stamp}{suffix}"


def backup(args: argparse.Namespace) -> int:
    overrides = {"database_url": args.db} if args.db else {}
    settings = _settings(args, **overrides)
    locale = settings.default_locale
    url = normalize_url(settings.database_url or default_sqlite_url(settings.data_dir))
    if make_url(url).get_backend_name() == "sqlite":
        source = sqlite_path(url)
        if source is None:
            say("cli.backup.memory", locale, error=True)
            return 2
        dest = Path(args.to) if args.to else _default_file(settings.data_dir, ".db")
        if dest.exists():
            say("cli.backup.exists", locale, error=True, path=dest)
            return 2
        try:
            made = backup_sqlite(source, dest)
        except BackupError as exc:
            say("cli.backup.failed", locale, error=True, reason=exc)
            return 1
        say("cli.backup.written", locale, path=made.path, size=made.size)
        return 0
    dest = Path(args.to) if args.to else _default_file(settings.data_dir, ".dump")
    dump = pg_dump_command(url, dest)
    if not args.pg_dump:
        say("cli.backup.pg_guidance", locale)
        print(f"  {shlex.join(dump.argv)}")
        say("cli.backup.pg_restore", locale)
        print(f"  {shlex.join(dump.restore)}")
        say("cli.backup.pg_run", locale)
        return 0
    if shutil.which("pg_dump") is None:
        say("cli.backup.pg_missing", locale, error=True)
        return 2
    if dest.exists():
        say("cli.backup.exists", locale, error=True, path=dest)
        return 2
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(dump.argv, env={**os.environ, **dump.env}, check=False)
    if done.returncode != 0:
        dest.unlink(missing_ok=True)
        say("cli.backup.pg_failed", locale, error=True, code=done.returncode)
        return 1
    say(
        "cli.backup.pg_written",
        locale,
        path=dest,
        size=dest.stat().st_size,
        restore=shlex.join(dump.restore),
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser(
        "backup", help="back up the database while the bot runs (SQLite; pg_dump for PostgreSQL)"
    )
    b.add_argument("--db", help="database URL (default: the configured one)")
    b.add_argument(
        "--to",
        metavar="FILE",
        help="the backup file, which must not exist (default: data_dir/backups/fanloop-TIME.db)",
    )
    b.add_argument(
        "--pg-dump",
        action="store_true",
        help="PostgreSQL: run pg_dump (it must be on PATH) instead of printing the command",
    )
    b.set_defaults(func=backup)
