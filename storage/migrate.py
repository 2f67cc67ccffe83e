"""Apply Alembic migrations in-process, on SQLite and PostgreSQL alike, one process at a time.

Each domain keeps its own migration branch (`branch_labels`), so features can add tables
independently; `upgrade heads` applies all of them.

Several processes may start together on one database (shards, webhook workers, a deploy that
restarts them all at once). The upgrade therefore runs in one transaction under a lock that the
database itself holds, so the second process waits for the first and then finds nothing left
to do:

- PostgreSQL: a transaction-level advisory lock (`pg_advisory_xact_lock`) on a fixed key plus
  the schema's name, released by the commit, or by the server when the process dies;
- SQLite: `BEGIN IMMEDIATE`, the file's write lock, taken before the version is read.

Under the lock the stored revisions are checked first: a revision that this code does not know
comes from newer code (a later release migrated the database), and the upgrade refuses with
`SchemaNewer` rather than run anything against tables it does not understand.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

STORAGE = Path(__file__).parent
MIGRATIONS = STORAGE / "migrations"
# Each domain package keeps its revisions beside its schema (the suggestion tables are still in
# the core branch, where they were first created: a revision id never moves between branches).
DOMAINS = ("core", "platform", "drops", "weekly", "participation")

#: The advisory lock's first key ("fanl"); the second is a hash of the schema's name, so that
#: fanloop databases in two schemas of one PostgreSQL database do not wait for each other.
LOCK_KEY = 0x66616E6C
_LOCK_ARGS = "CAST(:key AS integer), hashtext(coalesce(current_schema(), ''))"


class SchemaError(Exception):
    """The database's schema does not match this code's migrations."""


class SchemaNewer(SchemaError):
    """The database holds revisions this code does not know: newer code migrated it."""

    def __init__(self, unknown: tuple[str, ...]) -> None:
        super().__init__(f"the database has revisions this code does not know: {unknown}")
        self.unknown = unknown


class SchemaBehind(SchemaError):
    """Revisions of this code are not applied yet (and this process was told not to)."""

    def __init__(self, pending: tuple[str, ...]) -> None:
        super().__init__(f"revisions not applied yet: {pending}")
        self.pending = pending


@dataclass(frozen=True)
class SchemaState:
    """What the database holds against what the code knows."""

    applied: tuple[str, ...]  # the revisions stored in `alembic_version` (the database's heads)
    unknown: tuple[str, ...]  # stored revisions the code does not know
    pending: tuple[str, ...]  # revisions of the code not applied yet, in the order they apply

    def require_current(self) -> None:
        if self.unknown:
            raise SchemaNewer(self.unknown)
        if self.pending:
            raise SchemaBehind(self.pending)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "version_locations", os.pathsep.join(str(STORAGE / d / "migrations") for d in DOMAINS)
    )
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _state(sync_conn: Connection) -> SchemaState:
    applied: tuple[str, ...] = ()
    if inspect(sync_conn).has_table("alembic_version"):
        rows = sync_conn.execute(text("SELECT version_num FROM alembic_version"))
        applied = tuple(sorted(str(r[0]) for r in rows))
    script = _script()
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = tuple(rev for rev in applied if rev not in known)
    if unknown:
        return SchemaState(applied, unknown, ())
    done: set[str] = set()
    for rev in applied:
        done.update(r.revision for r in script.iterate_revisions(rev, "base"))
    # walk_revisions goes from the heads down; the pending ones apply in the opposite order.
    pending = tuple(
        rev.revision for rev in reversed(list(script.walk_revisions())) if rev.revision not in done
    )
    return SchemaState(applied, (), pending)


def _apply(sync_conn: Connection, target: str) -> tuple[str, ...]:
    """Under the lock: check what is stored, then apply what is missing."""
    state = _state(sync_conn)
    if state.unknown:
        raise SchemaNewer(state.unknown)
    if not state.pending:
        return ()
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, target)
    after = _state(sync_conn)
    return tuple(rev for rev in state.pending if rev not in after.pending)


def _postgresql(sync_conn: Connection, target: str) -> tuple[str, ...]:
    held = sync_conn.execute(
        text(f"SELECT pg_try_advisory_xact_lock({_LOCK_ARGS})"), {"key": LOCK_KEY}
    ).scalar()
    if not held:
        log.info("migrations: another process is migrating this database; waiting for it")
        sync_conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_ARGS})"), {"key": LOCK_KEY})
    return _apply(sync_conn, target)


def _sqlite(sync_conn: Connection, target: str) -> tuple[str, ...]:
    # The driver opens transactions by itself only before data changes, and lets schema changes
    # commit on their own; with its transaction handling off, one explicit BEGIN IMMEDIATE holds
    # the file's write lock from the version check to the commit, over every statement.
    dbapi: Any = sync_conn.connection.dbapi_connection
    saved = dbapi.isolation_level
    dbapi.isolation_level = None
    try:
        _begin_immediate(sync_conn)
        try:
            applied = _apply(sync_conn, target)
        except BaseException:
            sync_conn.rollback()
            raise
        sync_conn.commit()
        return applied
    finally:
        dbapi.isolation_level = saved


def _begin_immediate(sync_conn: Connection) -> None:
    """Take the write lock: at once if it is free, else (saying so) waiting as long as another
    process holds it, one busy timeout of the connection after another."""
    wait = sync_conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    sync_conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                sync_conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                orig = exc.orig
                sync_conn.rollback()
                if not (isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)):
                    raise
            log.info("migrations: another process is migrating this database; waiting for it")
            sync_conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait or 0) or 30000}")
    finally:
        sync_conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait or 0)}")


async def upgrade(engine: AsyncEngine, target: str = "heads") -> tuple[str, ...]:
    """Bring the schema up to `target` under the database's lock; the revisions this call
    applied (none when another process got there first). Raises `SchemaNewer` when the
    database holds a revision this code does not know."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            return await conn.run_sync(_sqlite, target)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            return await conn.run_sync(_postgresql, target)
        return await conn.run_sync(_apply, target)


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """What the database holds against the code's migrations (read only, no lock)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_state)


async def require_current(engine: AsyncEngine) -> None:
    """Raise `SchemaNewer` or `SchemaBehind` unless the schema is exactly this code's."""
    (await schema_state(engine)).require_current()


def _revision(sync_conn: Any, message: str, autogenerate: bool) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.revision(cfg, message=message, autogenerate=autogenerate)


async def new_revision(engine: AsyncEngine, message: str) -> None:
    """Developer helper: autogenerate a revision against an up-to-date database."""
    async with engine.begin() as conn:
        await conn.run_sync(_revision, message, True)
