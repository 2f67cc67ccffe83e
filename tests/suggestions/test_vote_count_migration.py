"""The migration that adds `suggestions.votes` fills it with the votes already there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from storage.core.schema import accounts, communities
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.suggestions.schema import suggestions, votes
from tests import databases
from tests.conftest import PG_URL, drop_schema

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_the_count_column_is_backfilled(db_kind: str, tmp_path: Path) -> None:
    if db_kind == "sqlite":
        engine, schema = create_engine(databases.sqlite_url(tmp_path / "old.db")), None
    else:
        schema = await databases.create_schema(PG_URL)
        engine = create_engine(PG_URL, schema=schema)
    try:
        await upgrade(engine, "0001_core")  # a database from before the column
        async with engine.begin() as conn:
            await conn.execute(insert(communities).values(id=1, name="c", created_at=AT))
            await conn.execute(insert(accounts), [{"id": a, "created_at": AT} for a in (1, 2, 3)])
            # Only the columns of the old table (the new one is not there yet).
            await conn.execute(
                insert(suggestions),
                [
                    {
                        "id": sid,
                        "community_id": 1,
                        "author_id": 1,
                        "title": "t",
                        "created_at": AT,
                        "updated_at": AT,
                    }
                    for sid in (1, 2)
                ],
            )
            await conn.execute(
                insert(votes),
                [{"suggestion_id": 1, "account_id": a, "created_at": AT} for a in (1, 2, 3)],
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            counts = dict((await conn.execute(select(suggestions.c.id, suggestions.c.votes))).all())
        assert counts == {1: 3, 2: 0}
    finally:
        await engine.dispose()
        if schema:
            await drop_schema(schema)
