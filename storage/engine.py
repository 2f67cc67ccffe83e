"""Creating the async engine: SQLite (one file, WAL) by default, PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def default_sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'fanloop.db').as_posix()}"


def sqlite_file_missing(url: str) -> str | None:
    """The file of a SQLite URL when it does not exist (opening it would create an empty
    database); None for other databases, in-memory ones, and files that exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return None if Path(database).exists() else database


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


# SQLite's page cache per connection (KiB, as a negative cache_size): its 2 MiB default is
# smaller than the indexes a burst of claims writes into at a million reservers, and every page
# that falls out of it is read again from the file (docs/bursts.md, "Drops").
SQLITE_CACHE_KIB = 65536
# WAL pages before a commit copies them back into the database (SQLite's default: 1,000). A
# batch of 1,000 wins dirties ~2,000 index pages, so with the default every such batch paid a
# checkpoint of all of them; a page changed by several batches is now copied back once. It
# changes nothing of durability: a commit is in the WAL either way.
SQLITE_WAL_AUTOCHECKPOINT = 10000
# How long a connection waits for another's lock (SQLite's busy timeout), in seconds.
SQLITE_BUSY_SECONDS = 30


def wal_mode(
    cursor: Any,
    *,
    seconds: float = SQLITE_BUSY_SECONDS,
    wait: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """`PRAGMA journal_mode=WAL`, tried again while another connection writes, for up to
    `seconds`. SQLite's busy timeout does not cover it: a connection opened while another holds
    a write transaction gets "database is locked" at once (SQLite returns rather than risk a
    deadlock), as when processes start together on a new database file and one of them is
    migrating it. Runs on the driver's thread, where a connection is made, not on the loop."""
    deadline = clock() + seconds
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or clock() >= deadline:
                raise
        wait(delay)
        delay = min(2 * delay, 0.25)


class Checkpointer:
    """Copies a SQLite database's WAL back into its file (a PASSIVE checkpoint: it waits for no
    reader or writer) on a connection and a thread of its own, beside the writers.

    A writer that commits often starts one as each commit starts: the checkpoint copies what
    earlier commits wrote while this one writes, so when a commit reaches
    `wal_autocheckpoint` it finds little left to copy, and nobody waiting for that commit
    waits for a checkpoint of many batches. Not a connection of the engine's pool: taking
    turns with the writer, a pooled connection left the writer a connection whose page cache
    the other's commits had made stale. Durability is unchanged: a commit is in the WAL
    before it returns either way."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self.runs = 0

    @classmethod
    def of(cls, engine: AsyncEngine) -> Checkpointer | None:
        """The checkpointer of an engine's SQLite file; None for other databases and for
        in-memory ones."""
        url = engine.url
        database = url.database or ""
        if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
            return None
        if database.startswith("file:") or url.query.get("mode") == "memory":
            return None
        return cls(database)

    async def run(self) -> None:
        await asyncio.to_thread(self._run)

    def _run(self) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.runs += 1

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def create_engine(
    url: str,
    *,
    schema: str | None = None,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
) -> AsyncEngine:
    """Build the engine. `schema` (PostgreSQL only) sets the search path, used by tests;
    `pool_size` and `max_overflow` (PostgreSQL only) bound the connections it holds."""
    url = normalize_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database or ""
        memory = database in ("", ":memory:") or "mode=memory" in url
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not memory:
                wal_mode(cur)
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT}")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            cur.close()

        return engine
    if schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    kwargs["pool_size"] = pool_size
    kwargs["max_overflow"] = max_overflow
    return create_async_engine(url, **kwargs)
