"""Backups: a consistent copy of a SQLite database while the bot runs, and the `pg_dump` command
for a PostgreSQL one.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step under
one read transaction, which in WAL mode does not block the bot's writers: the copy is the
database as of one commit, never a half-written one. It is written beside its destination,
checked (`PRAGMA quick_check`), switched to a self-contained file (rollback journal, no -wal
file to carry along) and only then renamed into place, so a file at the destination is always
a whole backup.

PostgreSQL: `pg_dump` is the tool (consistent by its own snapshot); `pg_dump_command` builds its
command line from the database URL, with the password passed through the environment
(`PGPASSWORD`) rather than the command line, where other users of the machine could read it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """The backup could not be made; the message says why."""


@dataclass(frozen=True)
class SqliteBackup:
    path: Path
    pages: int
    size: int  # bytes


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def backup_sqlite(source: Path, dest: Path) -> SqliteBackup:
    """Copy the SQLite database at `source` to `dest` (which must not exist), consistently,
    while other connections (the running bot) keep writing to it."""
    if dest.exists():
        raise BackupError(f"{dest} exists already")
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # mode=rw: never create an empty database where the file was expected.
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # all pages in one step: one snapshot of the source
                pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
                check = dst.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise BackupError(f"the copy does not pass the integrity check: {check}")
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        partial.rename(dest)
    except sqlite3.Error as exc:
        raise BackupError(str(exc)) from None
    finally:
        partial.unlink(missing_ok=True)
    return SqliteBackup(dest, pages, dest.stat().st_size)


@dataclass(frozen=True)
class PgDump:
    argv: list[str]  # the command, without the password
    env: dict[str, str]  # what to add to the environment (PGPASSWORD when the URL has one)
    restore: list[str]  # how to load the dump into an empty database


def _libpq_url(url: URL) -> str:
    """The URL as libpq reads it: no driver name, no password, `sslmode` for asyncpg's `ssl`."""
    query = dict(url.query)
    if "ssl" in query and "sslmode" not in query:
        query["sslmode"] = query.pop("ssl")
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=query,
    )
    return plain.render_as_string(hide_password=False)


def pg_dump_command(url: str, dest: Path) -> PgDump:
    """The `pg_dump` command that backs up the PostgreSQL database of `url` into `dest` (custom
    format: compressed, restored with `pg_restore`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise BackupError("not a PostgreSQL URL")
    target = _libpq_url(parsed)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return PgDump(
        argv=["pg_dump", "--format=custom", "--no-owner", f"--file={dest}", f"--dbname={target}"],
        env={k: str(v) for k, v in env.items()},
        restore=["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dest)],
    )
