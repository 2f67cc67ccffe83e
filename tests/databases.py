"""Test databases: migrated once per test process, handed to each test clean.

Running the migrations costs about 0.2 s on SQLite and 0.4 s on PostgreSQL; doing it for every
test was most of the suite's time. Instead each process (each pytest-xdist worker) migrates one
template per kind the first time a test needs it:

- SQLite: a migrated file, checkpointed and closed, copied to the test's `tmp_path` (~10 ms).
- PostgreSQL: a migrated schema owned by the process. Before each test every table is emptied
  and the used sequences are set back to their start, in one statement; the schema is dropped
  when the process ends.

A test therefore starts from exactly what `upgrade()` builds, with no row in any table and every
identity counter at its start. `fresh_engine` still migrates a new database from nothing, for the
tests of the migrations themselves.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import upgrade
from storage.schema import metadata


def _wipe_statement() -> str:
    """One round trip that empties every table and puts every used sequence back to its start
    (`alembic_version` stays). A table with many rows is truncated, since TRUNCATE's cost does
    not grow with the rows; the others are deleted from, children before parents, which on a
    few rows costs far less than TRUNCATE's new files."""
    names = [table.name for table in reversed(metadata.sorted_tables)]
    counted = "\n        UNION ALL ".join(
        f"SELECT '\"{name}\"' AS name, (SELECT count(*) FROM "
        f'(SELECT 1 FROM "{name}" LIMIT {_MANY + 1}) AS r) AS n'
        for name in names
    )
    deletes = "".join(f'    DELETE FROM "{name}";\n' for name in names)
    return f"""DO $$
DECLARE
    big text;
BEGIN
    SELECT string_agg(name, ', ') INTO big FROM (
        {counted}
    ) AS sizes WHERE n > {_MANY};
    IF big IS NOT NULL THEN
        EXECUTE 'TRUNCATE ' || big || ' CASCADE';
    END IF;
{deletes}    PERFORM setval(format('%I', sequencename)::regclass, start_value, false)
    FROM pg_sequences
    WHERE schemaname = current_schema() AND last_value IS NOT NULL;
END $$"""


# Above this many rows a table is truncated rather than deleted from.
_MANY = 500


def _fold_wal(path: Path) -> None:
    """Fold a closed SQLite database's write-ahead log into its file, so that copying the file
    alone copies the database."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def create_schema(pg_url: str, prefix: str = "t") -> str:
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        await admin.dispose()
    return schema


async def drop_schema(pg_url: str, schema: str) -> None:
    admin = create_engine(pg_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        await admin.dispose()


class TemplateDatabases:
    """The process's migrated templates, made on first use (in the running test's event loop;
    no engine outlives the call that made it)."""

    def __init__(self, pg_url: str, folder: Path) -> None:
        self.pg_url = pg_url
        self.folder = folder
        self._sqlite: Path | None = None
        self.pg_schema: str | None = None
        self._wipe = _wipe_statement()

    async def _sqlite_template(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "template.db"
            engine = create_engine(sqlite_url(path))
            try:
                await upgrade(engine)
            finally:
                await engine.dispose()
            _fold_wal(path)
            self._sqlite = path
        return self._sqlite

    async def sqlite(self, path: Path) -> AsyncEngine:
        """A migrated SQLite database at `path`, copied from the template."""
        shutil.copyfile(await self._sqlite_template(), path)
        return create_engine(sqlite_url(path))

    async def postgresql(self) -> tuple[AsyncEngine, str]:
        """An engine on the process's migrated schema, emptied; and the schema's name."""
        if self.pg_schema is None:
            schema = await create_schema(self.pg_url)
            try:
                await self._migrate(schema)
            except BaseException:
                await drop_schema(self.pg_url, schema)
                raise
            self.pg_schema = schema
        engine = create_engine(self.pg_url, schema=self.pg_schema)
        try:
            async with engine.begin() as conn:
                # A transaction an earlier test left open would block the wipe: fail, not hang.
                await conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                await conn.execute(text(self._wipe))
        except BaseException:
            await engine.dispose()
            raise
        return engine, self.pg_schema

    async def _migrate(self, schema: str) -> None:
        engine = create_engine(self.pg_url, schema=schema)
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()
        # The wipe names the declared tables: a migrated table it missed would keep rows.
        assert tables == {*metadata.tables, "alembic_version"}, sorted(tables)

    async def close(self) -> None:
        if self.pg_schema is not None:
            await drop_schema(self.pg_url, self.pg_schema)
            self.pg_schema = None


_TEMPLATES: TemplateDatabases | None = None


def templates(pg_url: str) -> TemplateDatabases:
    """This process's templates (made the first time a test asks)."""
    global _TEMPLATES
    if _TEMPLATES is None:
        folder = Path(tempfile.mkdtemp(prefix="fanloop-templates-"))
        _TEMPLATES = TemplateDatabases(pg_url, folder)
    return _TEMPLATES


async def close_templates() -> None:
    """Drop this process's PostgreSQL schema and remove the SQLite template."""
    global _TEMPLATES
    if _TEMPLATES is not None:
        await _TEMPLATES.close()
        shutil.rmtree(_TEMPLATES.folder, ignore_errors=True)
        _TEMPLATES = None


async def table_scans(engine: AsyncEngine, table: str) -> dict[str, int]:
    """How a PostgreSQL table was read so far: "table" for its whole-table scans, and each of its
    indexes by name. The counts of the engine's connection are published first (PostgreSQL
    publishes them when it goes idle), so use an engine of one connection."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_stat_force_next_flush()"))
        await conn.commit()
    async with engine.connect() as conn:
        whole = (
            await conn.execute(
                text("SELECT seq_scan FROM pg_stat_user_tables WHERE relid = to_regclass(:t)"),
                {"t": table},
            )
        ).scalar_one()
        indexes = await conn.execute(
            text(
                "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes"
                " WHERE relid = to_regclass(:t)"
            ),
            {"t": table},
        )
        return {"table": int(whole), **{str(r[0]): int(r[1]) for r in indexes}}
