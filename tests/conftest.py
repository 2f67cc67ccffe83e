"""Shared fixtures: a migrated database (SQLite, and PostgreSQL where it answers; see
`tests/databases.py`), an App on a fake clock, and the console adapter that drives it end to
end."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import ConsoleAdapter
from bot.core.app import App
from bot.core.clock import FakeClock
from config.settings import FanloopSettings
from storage.engine import create_engine
from storage.migrate import upgrade
from tests import databases
from tests.databases import TemplateDatabases, create_schema, sqlite_url
from tests.helpers import artifacts_dir

PG_URL = os.environ.get("FANLOOP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("FANLOOP_TEST_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday


def _pg_answers() -> bool:
    async def probe() -> bool:
        engine = create_engine(PG_URL)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(probe())


_PG_OK: bool | None = None


def pg_available() -> bool:
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = _pg_answers()
    return _PG_OK


def require_postgresql() -> None:
    """Skip the test when PostgreSQL does not answer (fail it where PostgreSQL is required)."""
    if not pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here but does not answer at {PG_URL}")
        pytest.skip("PostgreSQL does not answer")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        require_postgresql()
    return str(request.param)


@pytest.fixture
def postgresql() -> None:
    """For a test that is about PostgreSQL alone: several processes sharing one database, its
    planner."""
    require_postgresql()


@pytest_asyncio.fixture
async def pg_one_connection(postgresql: None, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A new PostgreSQL schema, and an engine over it that always uses the same server
    connection: what PostgreSQL keeps per connection (the plans of foreign-key checks) is what
    each transaction of the test meets."""
    migrated, schema = await make_fresh_engine("postgresql", tmp_path)
    await migrated.dispose()
    assert schema is not None
    engine = create_engine(PG_URL, schema=schema, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_schema(schema)


async def make_engine(kind: str, tmp_path: Path) -> tuple[AsyncEngine, str | None]:
    """A migrated, empty database for one test: a copy of the SQLite template at
    `tmp_path / "fanloop.db"`, or the process's PostgreSQL schema, emptied (its name is returned
    for subprocesses that need the search path; it is not the caller's to drop)."""
    if kind == "sqlite":
        return await _templates().sqlite(tmp_path / "fanloop.db"), None
    return await _templates().postgresql()


def engine_url(kind: str, tmp_path: Path) -> str:
    """The URL another process opens to reach the database `make_engine(kind, tmp_path)` made
    (on PostgreSQL, with the schema it returned as the search path)."""
    return sqlite_url(tmp_path / "fanloop.db") if kind == "sqlite" else PG_URL


async def make_fresh_engine(kind: str, tmp_path: Path) -> tuple[AsyncEngine, str | None]:
    """A database migrated from nothing (for the tests of the migrations); drop the schema it
    returns with `drop_schema`."""
    if kind == "sqlite":
        engine = create_engine(sqlite_url(tmp_path / "fanloop.db"))
        await upgrade(engine)
        return engine, None
    schema = await create_schema(PG_URL)
    engine = create_engine(PG_URL, schema=schema)
    await upgrade(engine)
    return engine, schema


async def drop_schema(schema: str) -> None:
    """Drop a schema made by `make_fresh_engine` (the shared one is kept for the next test)."""
    if schema != _templates().pg_schema:
        await databases.drop_schema(PG_URL, schema)


def _templates() -> TemplateDatabases:
    return databases.templates(PG_URL)


def pytest_sessionfinish(session: pytest.Session) -> None:
    asyncio.run(databases.close_templates())


_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where this run's browser screenshots are (tests/web/test_browser.py)."""
    shots = artifacts_dir("browser")
    new = [p for p in shots.glob("*.png") if p.stat().st_mtime >= _STARTED]
    if new:
        terminalreporter.write_line(f"browser screenshots ({len(new)}): {shots}")


@pytest_asyncio.fixture
async def engine(db_kind: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng, _ = await make_engine(db_kind, tmp_path)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> FanloopSettings:
    return FanloopSettings(data_dir=tmp_path / "data")


@pytest_asyncio.fixture
async def app(
    engine: AsyncEngine, clock: FakeClock, settings: FanloopSettings
) -> AsyncIterator[App]:
    application = await App.create(settings, clock, engine=engine, migrate=False)
    yield application
    # Edits of posts run in the background after a correction (bot.core.posts): let them end
    # before the engine goes, or a task cut off mid-transaction leaves its connection behind.
    await application.posts.settle()


@pytest_asyncio.fixture
async def console(app: App) -> ConsoleAdapter:
    return ConsoleAdapter(app)
