"""Throw-away databases for benchmarks."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import upgrade


class ScratchDb:
    """A fresh, migrated database for a benchmark: a SQLite file in a temporary folder (or at
    the given sqlite URL, which must not exist yet), or a new schema in the given PostgreSQL
    database. Everything is removed on exit."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.schema: str | None = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.engine: AsyncEngine

    async def __aenter__(self) -> AsyncEngine:
        if self.url and not self.url.startswith("sqlite"):
            self.schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(self.url)
            async with admin.begin() as conn:
                await conn.execute(text(f"CREATE SCHEMA {self.schema}"))
            await admin.dispose()
            self.engine = create_engine(self.url, schema=self.schema)
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="fanloop-bench-")
            path = Path(self.url.split("///", 1)[1]) if self.url else Path(self.tmp.name) / "b.db"
            if path.exists():
                raise SystemExit(f"refusing to use an existing SQLite file: {path}")
            self.engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(self.engine)
        return self.engine

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.dispose()
        if self.schema and self.url:
            admin = create_engine(self.url)
            async with admin.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            await admin.dispose()
        if self.tmp is not None:
            self.tmp.cleanup()
